"""Time-dependent enrollment behaviour, driven by the `now` the webhook hands the domain code."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.models import Caregiver, ConsentEvent, InboundMessage, OutboundMessage
from sms_service.core.settings import Settings
from sms_service.texting.inbound import IncomingText
from sms_service.web.context import AppContext
from sms_service.web.sms_inbound import receive
from tests.helpers.texting import caregiver, children, new_sid

T0 = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York


class Clocked:
    """A phone whose texts arrive at a time the test sets."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, number: str) -> None:
        self.sessions, self.settings, self.number = sessions, settings, number

    def text(self, body: str, at: datetime) -> str | None:
        incoming = IncomingText(message_sid=new_sid(), from_number=self.number, body=body)
        context = AppContext(settings=self.settings, sessions=self.sessions)
        outcome = asyncio.run(receive(incoming, context=context, now=at))
        return outcome.reply

    def enroll(self, at: datetime) -> None:
        for answer in ("JOIN", "Maya", "8 months", "1"):
            self.text(answer, at)


def test_chatty_parents_are_thanked_once_a_day(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    phone = Clocked(sessions, settings, "+12125550123")
    phone.enroll(T0)
    assert "Thank you for writing" in (phone.text("She smiled!", T0) or "")
    assert phone.text("And laughed", T0 + timedelta(hours=23, minutes=59)) is None
    assert "Thank you for writing" in (phone.text("Again!", T0 + timedelta(days=1)) or "")
    assert caregiver(sessions, phone.number).last_ack_at == T0 + timedelta(days=1)
    with sessions() as session:
        handled = session.scalars(select(InboundMessage.handled_as).order_by(InboundMessage.id))
        assert list(handled)[-3:] == ["reply", "reply", "reply"]


def test_pause_lasts_four_weeks_or_as_asked(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    phone = Clocked(sessions, settings, "+12125550123")
    phone.enroll(T0)
    assert phone.text("PAUSE", T0) == (
        "Little Moments: Your tips are paused until March 31. Text RESUME anytime to start "
        "again sooner."
    )
    assert caregiver(sessions, phone.number).paused_until == T0 + timedelta(weeks=4)
    assert "until March 17" in (phone.text("pause 2", T0) or "")
    assert "until May 26" in (phone.text("PAUSE 99", T0) or "")  # at most 12 weeks
    phone.text("RESUME", T0 + timedelta(days=1))
    person = caregiver(sessions, phone.number)
    assert (person.status, person.paused_until) == ("active", None)


def test_ages_count_from_the_caregivers_local_date(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    late_evening_in_la = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)  # 01:00 in NY, 22:00 in LA
    for number in ("+13105550123", "+12125550123"):
        phone = Clocked(sessions, settings, number)
        for answer in ("JOIN", "skip", "3 days", "1"):
            phone.text(answer, late_evening_in_la)
    [in_la] = children(sessions, "+13105550123")
    [in_ny] = children(sessions, "+12125550123")
    assert (in_la.birth_date, in_ny.birth_date) == (date(2025, 2, 25), date(2025, 2, 26))


def test_records_carry_the_time_of_the_text(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    phone = Clocked(sessions, settings, "+12125550123")
    phone.enroll(T0)
    with sessions() as session:
        person = session.scalars(select(Caregiver)).one()
        assert person.enrolled_at == T0 and person.created_at == T0
        assert set(session.scalars(select(InboundMessage.received_at))) == {T0}
        assert set(session.scalars(select(OutboundMessage.due_at))) == {T0}
        assert set(session.scalars(select(OutboundMessage.sent_at))) == {T0}
        assert set(session.scalars(select(ConsentEvent.created_at))) == {T0}


def test_due_date_without_a_year_is_the_next_one(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    phone = Clocked(sessions, settings, "+12125550123")
    phone.text("JOIN", T0)
    phone.text("skip", T0)
    # March 2 has passed: the next one is a year away, too far for a pregnancy.
    assert "too far away" in (phone.text("due 3/2", T0) or "")
    assert "Reply with a number" in (phone.text("due 10/1", T0) or "")
    phone.text("1", T0)
    [child] = children(sessions, phone.number)
    assert (child.birth_date, child.is_expected) == (date(2025, 10, 1), True)
