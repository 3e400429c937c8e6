"""The first tip: right after "You're signed up!", as that week's tip, never at night."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jobs.planner import plan
from sms_service.core import outbox
from sms_service.core.db import transaction
from sms_service.core.models import Caregiver, OutboundMessage
from sms_service.core.settings import Settings
from tests.helpers.texting import outbox as texts_to
from tests.jobs.factories import add_caregiver
from tests.jobs.test_planner import drive, ticks

NEW_YORK = ZoneInfo("America/New_York")
SUNDAY, MORNING = 6, 9
MAYA = ("Maya", date(2025, 12, 1))  # 13 weeks old on Monday 2026-03-02


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2026, New York time (2026-03-02 is a Monday, ISO week 10)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=NEW_YORK)


PHONE = "+12125550140"


def enroll(sessions: sessionmaker[Session], *, at: datetime, phone: str = PHONE) -> int:
    """A caregiver who finished enrolling at `at` and chose Sunday mornings."""
    with transaction(sessions) as session:
        caregiver = add_caregiver(
            session, phone=phone, children=[MAYA], weekday=SUNDAY, hour=MORNING
        )
        caregiver.enrolled_at = at.astimezone(UTC)
        return caregiver.id


def test_a_monday_evening_enrollee_for_sunday_mornings_gets_a_tip_within_minutes(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    enroll(sessions, at=local(2, 19, 1))
    # The scheduler's runs every 5 minutes for the first hour, then hourly (to stay quick) to
    # the Sunday after next.
    drive(engine, settings, local(2, 19, 5), local(2, 20))
    for now in ticks(local(2, 20), local(16, 12), timedelta(hours=1)):
        plan(engine, now=now, settings=settings)

    rows = texts_to(sessions, PHONE)
    first, *weekly = rows
    # The first tip is planned by the first run after enrolling, for then: not six days later.
    assert first.due_at == first.created_at == local(2, 19, 5).astimezone(UTC)
    assert first.kind == "tip" and first.tip_id == "en-w+012-a"  # age-matched: 13 weeks
    assert "Maya" in first.body
    # It is that week's tip: Sunday 2026-03-08 (the same ISO week) gets nothing more, and the
    # Sundays after get the next tips, at the chosen time.
    assert first.cap_week == first.dedupe_key.rsplit(":", 1)[1] == "2026-W10"
    assert [row.due_at for row in weekly] == [local(15, MORNING).astimezone(UTC)]
    assert [row.cap_week for row in rows] == ["2026-W10", "2026-W11"]
    assert len({row.tip_id for row in rows}) == 2


def test_an_enrollee_at_night_gets_the_first_tip_when_the_window_opens(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    # Quiet hours are 21:00-08:00: enrolled Tuesday 22:30, nothing until Wednesday 08:00.
    enroll(sessions, at=local(3, 22, 30))
    drive(engine, settings, local(3, 22, 35), local(4, 12))
    [first] = texts_to(sessions, PHONE)
    assert first.due_at == local(4, 8).astimezone(UTC)
    assert first.due_at.astimezone(NEW_YORK).time() >= settings.quiet_hours.end


def test_no_first_tip_for_a_full_week_a_pause_or_an_old_enrollment(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    now = local(4, 10)
    full = enroll(sessions, at=now - timedelta(minutes=3), phone="+12125550141")
    paused = enroll(sessions, at=now - timedelta(minutes=3), phone="+12125550142")
    # Enrolled three days ago and somehow never tipped (the planner was down): the weekly slot
    # takes over; a surprise tip days later would not be the "soon" the confirmation promised.
    enroll(sessions, at=now - timedelta(days=3), phone="+12125550143")
    with transaction(sessions) as session:
        session.add(
            OutboundMessage(
                dedupe_key="campaign:1:full",
                kind="campaign",
                caregiver_id=full,
                to_number="+12125550141",
                body="Little Moments: story time at the library on Saturday!",
                segments=1,
                state="sent",
                due_at=now - timedelta(minutes=1),
                cap_week=outbox.week_label(day=now.date()),
                created_at=now - timedelta(minutes=1),
            )
        )
        paused_caregiver = session.get_one(Caregiver, paused)
        paused_caregiver.status, paused_caregiver.paused_until = "paused", now + timedelta(days=7)
    assert plan(engine, now=now.astimezone(UTC), settings=settings).planned == 0
    assert [row.kind for row in texts_to(sessions, "+12125550141")] == ["campaign"]
    for phone in ("+12125550142", "+12125550143"):
        assert texts_to(sessions, phone) == []


def test_the_first_tip_is_planned_once_however_often_the_planner_runs(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    enroll(sessions, at=local(2, 10))
    for minutes in (1, 1, 6, 11, 600):
        plan(engine, now=local(2, 10, 0) + timedelta(minutes=minutes), settings=settings)
    assert [row.due_at for row in texts_to(sessions, PHONE)] == [local(2, 10, 1).astimezone(UTC)]
