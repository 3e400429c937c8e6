"""Aging out at 36 months: a goodbye, the child completed, the caregiver completed when done."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from content.checker import check_message
from content.segments import analyze
from jobs.aging import GOODBYES, age_out, goodbye_body
from sms_service.core.db import transaction
from sms_service.core.models import Caregiver, Child, OutboundMessage
from sms_service.core.settings import Settings
from tests.jobs.factories import add_caregiver

NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("name", [None, "Maximilian Alexander"])
def test_goodbyes_fit_two_segments_and_pass_the_content_checker(
    language: str, name: str | None
) -> None:
    body = goodbye_body(language, name, "Program Name Of 24 Chars")
    assert analyze(body).segments <= 2
    errors = [
        f for f in check_message(GOODBYES[language], language=language) if f.severity == "error"
    ]
    assert errors == []


def test_a_child_turning_36_months_gets_a_goodbye_and_completes_with_the_caregiver(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        one_child = add_caregiver(
            session, phone="+12125550200", children=[("Mia", date(2023, 3, 6))]
        ).id
        two_children = add_caregiver(
            session,
            phone="+12125550201",
            language="es",
            children=[(None, date(2023, 2, 20)), ("Leo", date(2025, 1, 1))],
        ).id
        opted_out = add_caregiver(
            session,
            phone="+12125550202",
            status="opted_out",
            children=[("Ann", date(2023, 1, 1))],
        ).id
    # 2026-03-01 21:00 in New York (already 03-02 in UTC): Mia is 155 weeks and 6 days old
    # there; the others are past 156 weeks.
    evening = datetime(2026, 3, 1, 21, 0, tzinfo=NEW_YORK)
    report = age_out(engine, now=evening, settings=settings)
    assert (report.children_completed, report.goodbyes, report.caregivers_completed) == (2, 1, 0)
    # Next morning Mia is 156 weeks; running again changes nothing else.
    report = age_out(engine, now=datetime(2026, 3, 2, 9, 0, tzinfo=NEW_YORK), settings=settings)
    assert (report.children_completed, report.goodbyes, report.caregivers_completed) == (1, 1, 1)
    assert age_out(engine, now=evening.replace(day=3), settings=settings).children_completed == 0

    with transaction(sessions) as session:
        messages = {m.caregiver_id: m for m in session.scalars(select(OutboundMessage))}
        statuses = {
            id_: status for id_, status in session.execute(select(Caregiver.id, Caregiver.status))
        }
        children = {
            name: status for name, status in session.execute(select(Child.name, Child.status))
        }
    assert set(messages) == {one_child, two_children}
    spanish = messages[two_children]
    assert spanish.kind == "system"
    assert spanish.body.startswith("Little Moments: ¡Tu niño o niña cumple 3 años")
    # Planned at 21:00, after quiet hours began: due at 08:00 the next morning.
    assert spanish.due_at == datetime(2026, 3, 2, 8, 0, tzinfo=NEW_YORK).astimezone(UTC)
    assert messages[one_child].body.startswith("Little Moments: Mia turns 3")
    assert messages[one_child].dedupe_key.startswith("system:aged-out:")
    assert statuses == {one_child: "completed", two_children: "active", opted_out: "opted_out"}
    assert children == {"Mia": "completed", None: "completed", "Leo": "active", "Ann": "completed"}
