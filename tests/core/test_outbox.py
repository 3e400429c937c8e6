"""The outbox's dedupe keys: the SQL builders spell each key as its Python format does."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, Integer, String, func, literal, select

from sms_service.core import outbox
from sms_service.core.models import Caregiver, OutboundMessage, Partner

KEYS = [
    (1, 1, date(2026, 1, 1)),
    (42, 7, date(2026, 3, 2)),
    (123_456_789, 98_765, date(2027, 1, 3)),
]


@pytest.mark.parametrize(("caregiver_id", "child_id", "day"), KEYS)
def test_tip_key_in_sql_equals_the_python_format(
    engine: Engine, caregiver_id: int, child_id: int, day: date
) -> None:
    week = outbox.week_label(day=day)
    expression = outbox.tip_key_sql(
        caregiver_id=literal(caregiver_id, Integer),
        child_id=literal(child_id, Integer),
        week=literal(week, String),
    )
    with engine.connect() as connection:
        rendered = connection.execute(select(expression)).scalar_one()
    assert rendered == outbox.tip_key(caregiver_id=caregiver_id, child_id=child_id, week=week)


@pytest.mark.parametrize(("message_id", "caregiver_id"), [(1, 1), (17, 42), (9_999, 123_456_789)])
def test_campaign_key_in_sql_equals_the_python_format(
    engine: Engine, message_id: int, caregiver_id: int
) -> None:
    expression = outbox.campaign_key_sql(
        campaign_message_id=message_id, caregiver_id=literal(caregiver_id, Integer)
    )
    with engine.connect() as connection:
        rendered = connection.execute(select(expression)).scalar_one()
    assert rendered == outbox.campaign_key(
        campaign_message_id=message_id, caregiver_id=caregiver_id
    )


def test_week_labels_are_iso_weeks() -> None:
    assert outbox.week_label(day=date(2026, 3, 2)) == "2026-W10"
    assert outbox.week_label(day=date(2027, 1, 3)) == "2026-W53"  # a Sunday, still last year's


def test_the_insert_skips_a_key_already_taken(engine: Engine) -> None:
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    with engine.begin() as connection:
        partner_id = connection.execute(
            Partner.__table__.insert()
            .values(slug="test", name="Test", local_resources="", created_at=now, updated_at=now)
            .returning(Partner.__table__.c.id)
        ).scalar_one()
        caregiver_id = connection.execute(
            Caregiver.__table__.insert()
            .values(
                phone="+12125550199",
                language="en",
                timezone="America/New_York",
                partner_id=partner_id,
            )
            .returning(Caregiver.__table__.c.id)
        ).scalar_one()
        row = {
            "dedupe_key": outbox.system_key(name="test", caregiver_id=caregiver_id, child_id=0),
            "kind": "system",
            "caregiver_id": caregiver_id,
            "to_number": "+12125550199",
            "body": "Hello",
            "segments": 1,
            "state": "pending",
            "due_at": now,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        statement = outbox.insert_ignoring_duplicates(dialect=connection.dialect.name)
        connection.execute(statement, [row])
        connection.execute(statement, [row | {"body": "Hello again"}])
        stored = connection.execute(
            select(OutboundMessage.body, func.count()).group_by(OutboundMessage.body)
        ).all()
    assert stored == [("Hello", 1)]
