"""Staff correct a child's name and birth date when a parent texts them ("born on 11/28! Rosie")."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.caregivers.children import correct_child
from sms_service.caregivers.errors import CaregiverError
from sms_service.core.audit import Actor
from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, Child, OutboundMessage
from tests.helpers.people import add_caregiver

STAFF = Actor(name="ana@example.org", role="staff")
TODAY = date(2026, 12, 2)


def expecting(sessions: sessionmaker[Session]) -> tuple[int, int]:
    """A family expecting a baby in three weeks; (caregiver id, child id)."""
    with transaction(sessions) as session:
        caregiver = add_caregiver(session, child_age_days=-21, today=TODAY)
        return caregiver.id, caregiver.children[0].id


def test_a_birth_announced_by_text_is_saved_from_the_caregiver_page(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    caregiver_id, child_id = expecting(sessions)
    born = date.today() - timedelta(days=4)
    page = web.post(
        f"/admin/caregivers/{caregiver_id}/children/{child_id}",
        data={"csrf_token": staff_csrf, "name": "  Rosie  ", "birth_date": born.isoformat()},
        follow_redirects=True,
    )
    assert f"Saved: Rosie, born {born}" in page.text
    with sessions() as session:
        child = session.get_one(Child, child_id)
        assert (child.name, child.birth_date, child.is_expected) == ("Rosie", born, False)
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "child.correct")).one()
        assert audit.actor == "sam@example.org" and audit.detail["changed"] == [
            "name",
            "birth_date",
            "is_expected",
        ]


@pytest.mark.parametrize(
    ("birth_date", "refusal"),
    [
        ("", "pick the birth date"),
        ("2020-01-01", "36 months or older"),
        ("2031-01-01", "at most 40 weeks ahead"),
        ("２０２６-１１-２８", "pick the birth date"),
    ],
)
def test_impossible_dates_are_refused_and_change_nothing(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session], birth_date: str, refusal: str
) -> None:
    caregiver_id, child_id = expecting(sessions)
    page = web.post(
        f"/admin/caregivers/{caregiver_id}/children/{child_id}",
        data={"csrf_token": staff_csrf, "name": "Rosie", "birth_date": birth_date},
        follow_redirects=True,
    )
    assert refusal in page.text
    with sessions() as session:
        assert session.get_one(Child, child_id).name is None


def test_a_child_of_another_family_cannot_be_reached_by_guessing(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    _, child_id = expecting(sessions)
    other, _ = expecting(sessions)
    page = web.post(
        f"/admin/caregivers/{other}/children/{child_id}",
        data={"csrf_token": staff_csrf, "name": "Mallory", "birth_date": "2026-11-28"},
        follow_redirects=True,
    )
    assert f"this family has no child {child_id}" in page.text
    with sessions() as session:
        assert session.get_one(Child, child_id).name is None


def test_a_planned_tip_with_the_old_name_is_withdrawn_and_sent_ones_stay(
    sessions: sessionmaker[Session],
) -> None:
    caregiver_id, child_id = expecting(sessions)
    due = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
    with transaction(sessions) as session:
        for key, state in (("tip:planned", "pending"), ("tip:sent", "sent")):
            session.add(
                OutboundMessage(
                    dedupe_key=key,
                    kind="tip",
                    caregiver_id=caregiver_id,
                    child_id=child_id,
                    to_number="+12125550000",
                    body="Little Moments: a prenatal tip for your baby",
                    state=state,
                    due_at=due,
                )
            )
    with transaction(sessions) as session:
        caregiver = session.get_one(Child, child_id).caregiver
        correct_child(
            session,
            caregiver,
            child_id,
            name="Rosie",
            birth_date=TODAY - timedelta(days=4),
            today=TODAY,
            actor=STAFF,
        )
        with pytest.raises(CaregiverError, match="no child"):
            correct_child(
                session,
                caregiver,
                child_id + 999,
                name="x",
                birth_date=TODAY,
                today=TODAY,
                actor=STAFF,
            )
    with sessions() as session:
        # The planner plans the week again, for a newborn named Rosie.
        assert session.scalars(select(OutboundMessage.dedupe_key)).all() == ["tip:sent"]
