"""The staff inbox: every parent's own text reaches a person, who can answer it by text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sms_service.caregivers import lifecycle
from sms_service.caregivers.lifecycle import Evidence
from sms_service.core.audit import Actor
from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, Caregiver, InboundMessage, OutboundMessage
from sms_service.core.scope import NETWORK
from sms_service.core.settings import Settings
from sms_service.inbox.answers import answer
from sms_service.inbox.items import (
    InboxError,
    InboxFilters,
    InboxNotFound,
    inbox_item,
    list_inbox,
    open_count,
    set_state,
)
from sms_service.texting.inbound import IncomingText, handle_inbound
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.people import add_caregiver
from tests.helpers.texting import new_sid
from tests.jobs.outbox import NOON_NEW_YORK, dispatch

STAFF = Actor(name="ana@example.org", role="staff")
# 23:30 in New York: inside the default quiet hours (21:00-08:00).
NIGHT_NEW_YORK = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)


def text_in(
    sessions: sessionmaker[Session], settings: Settings, phone: str, body: str, now: datetime
) -> int:
    """A parent texts the service; the id of the stored text."""
    sid = new_sid()
    with transaction(sessions) as session:
        handle_inbound(
            IncomingText(message_sid=sid, from_number=phone, body=body),
            session=session,
            settings=settings,
            now=now,
        )
    with sessions() as session:
        found = session.scalar(select(InboundMessage.id).where(InboundMessage.message_sid == sid))
        assert found is not None
        return found


def family(sessions: sessionmaker[Session], **options: object) -> Caregiver:
    with transaction(sessions) as session:
        return add_caregiver(session, child_name="Maya", **options)  # type: ignore[arg-type]


def state_of(sessions: sessionmaker[Session], message_id: int) -> str | None:
    with sessions() as session:
        return session.get_one(InboundMessage, message_id).inbox_state


def test_questions_reach_the_inbox_and_commands_do_not(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    phone = family(sessions).phone
    question = text_in(
        sessions, settings, phone, "Is there a group for dads near me?", NOON_NEW_YORK
    )
    # The same day: no second acknowledgement goes out, but the text still reaches staff.
    later = NOON_NEW_YORK + timedelta(minutes=5)
    follow_up = text_in(sessions, settings, phone, "He is 8 months", later)
    command = text_in(sessions, settings, phone, "PAUSE 2", later + timedelta(minutes=1))
    with sessions() as session:
        acknowledgements = session.scalars(
            select(OutboundMessage.body).where(OutboundMessage.kind == "reply")
        ).all()
    # The promise the acknowledgement makes is what the inbox keeps: every such text waits there.
    promised = [body for body in acknowledgements if "reads every message" in body]
    assert len(promised) == 1  # once a day; the PAUSE got its own answer
    assert state_of(sessions, question) == "unread"
    assert state_of(sessions, follow_up) == "unread"
    assert state_of(sessions, command) is None
    with sessions() as session:
        listed = [message.id for message, _ in list_inbox(session, InboxFilters(), scope=NETWORK)]
        assert listed == [follow_up, question]  # newest first
        assert open_count(session, scope=NETWORK) == 2


def test_a_crisis_text_is_urgent_first_with_the_support_lines_of_its_language(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    spanish = family(sessions, language="es").phone
    english = family(sessions).phone
    urgent = text_in(sessions, settings, spanish, "Ya no puedo más, estoy muy sola", NOON_NEW_YORK)
    calm = text_in(
        sessions, settings, english, "She loved the song!", NOON_NEW_YORK + timedelta(hours=1)
    )
    with sessions() as session:
        listed = [message.id for message, _ in list_inbox(session, InboxFilters(), scope=NETWORK)]
        assert listed == [urgent, calm]  # urgent before newer texts
        assert [
            m.id for m, _ in list_inbox(session, InboxFilters(urgent_only=True), scope=NETWORK)
        ] == [urgent]
        assert [
            m.id for m, _ in list_inbox(session, InboxFilters(language="en"), scope=NETWORK)
        ] == [calm]
        item = inbox_item(session, urgent, scope=NETWORK)
        assert item.support_lines is not None and "988" in item.support_lines
        assert "1-833-852-6262" in item.support_lines and "Peligro" in item.support_lines
        assert inbox_item(session, calm, scope=NETWORK).support_lines is None


def test_an_answer_reaches_the_family_once_and_shows_what_their_text_answered(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    caregiver = family(sessions)
    with transaction(sessions) as session:
        session.add(
            OutboundMessage(
                dedupe_key="tip:test",
                kind="tip",
                caregiver_id=caregiver.id,
                to_number=caregiver.phone,
                body="Little Moments: Sing to Maya while you change her.",
                state="delivered",
                due_at=NOON_NEW_YORK - timedelta(days=1),
                sent_at=NOON_NEW_YORK - timedelta(days=1),
            )
        )
    question = text_in(
        sessions,
        settings,
        caregiver.phone,
        "what do I do if he cries every time I change his diaper?",
        NOON_NEW_YORK,
    )
    with transaction(sessions) as session:
        item = inbox_item(session, question, scope=NETWORK)
        assert item.answered_text is not None and "Sing to Maya" in item.answered_text.body
        queued = answer(
            session,
            question,
            "Try a song and a warm cloth. Many babies dislike the cold air!",
            actor=STAFF,
            settings=settings,
            now=NOON_NEW_YORK,
        )
        assert not queued.delayed
    assert state_of(sessions, question) == "done"
    with FakeTwilio() as fake:
        dispatch(sessions, settings, fake, now=NOON_NEW_YORK)
        dispatch(sessions, settings, fake, now=NOON_NEW_YORK + timedelta(minutes=10))
        bodies = [m["body"] for m in fake.sent_to(caregiver.phone)]
    assert bodies == [
        "Little Moments: Try a song and a warm cloth. Many babies dislike the cold air!"
    ]
    with sessions() as session:
        assert [a.state for a in inbox_item(session, question, scope=NETWORK).answers] == ["sent"]
        audit = session.scalars(select(AuditLog.action).where(AuditLog.actor == STAFF.name))
        assert list(audit) == ["inbox.answer"]


def test_an_answer_written_at_night_waits_for_the_familys_morning(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    phone = family(sessions).phone
    question = text_in(sessions, settings, phone, "Are you open tomorrow?", NIGHT_NEW_YORK)
    with transaction(sessions) as session:
        queued = answer(
            session, question, "Yes, 9 to 5.", actor=STAFF, settings=settings, now=NIGHT_NEW_YORK
        )
        assert queued.delayed
        assert queued.message.due_at == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # 08:00 EST
    with FakeTwilio() as fake:
        dispatch(sessions, settings, fake, now=NIGHT_NEW_YORK)
        assert fake.sent_to(phone) == []
        dispatch(sessions, settings, fake, now=datetime(2026, 11, 24, 13, 1, tzinfo=UTC))
        assert [m["body"] for m in fake.sent_to(phone)] == ["Little Moments: Yes, 9 to 5."]


def test_a_stop_after_the_answer_was_queued_wins(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    phone = family(sessions).phone
    question = text_in(sessions, settings, phone, "Is the center open?", NIGHT_NEW_YORK)
    with transaction(sessions) as session:
        answer(session, question, "Yes!", actor=STAFF, settings=settings, now=NIGHT_NEW_YORK)
    text_in(sessions, settings, phone, "STOP", NIGHT_NEW_YORK + timedelta(minutes=1))
    with FakeTwilio() as fake:
        dispatch(sessions, settings, fake, now=datetime(2026, 11, 24, 13, 1, tzinfo=UTC))
        assert fake.sent_to(phone) == []


@pytest.mark.parametrize("status", ["opted_out", "undeliverable", "paused"])
def test_families_that_may_not_be_texted_cannot_be_answered(
    sessions: sessionmaker[Session], settings: Settings, status: str
) -> None:
    caregiver = family(sessions)
    question = text_in(sessions, settings, caregiver.phone, "Thanks for the tips", NOON_NEW_YORK)
    with transaction(sessions) as session:
        row = session.get_one(Caregiver, caregiver.id)
        evidence = Evidence(source="staff", text="test")
        if status == "opted_out":
            lifecycle.opt_out(session, row, evidence=evidence, now=NOON_NEW_YORK)
        elif status == "paused":
            lifecycle.pause(
                session,
                row,
                until=NOON_NEW_YORK + timedelta(days=7),
                now=NOON_NEW_YORK,
                actor=STAFF,
            )
        else:
            row.status = status
    with transaction(sessions) as session, pytest.raises(InboxError) as refused:
        answer(session, question, "Hello", actor=STAFF, settings=settings, now=NOON_NEW_YORK)
    said = {"opted_out": "opted out", "undeliverable": "cannot receive", "paused": "paused"}
    assert said[status] in str(refused.value)
    with sessions() as session:
        assert (
            session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "staff")).all()
            == []
        )


def test_states_are_audited_and_unknown_ids_refused(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    phone = family(sessions).phone
    question = text_in(sessions, settings, phone, "Thank you!", NOON_NEW_YORK)
    command = text_in(sessions, settings, phone, "TIME", NOON_NEW_YORK + timedelta(minutes=1))
    with transaction(sessions) as session:
        set_state(session, question, "done", actor=STAFF)
    with sessions() as session:
        assert list_inbox(session, InboxFilters(), scope=NETWORK) == []
        assert [
            m.id for m, _ in list_inbox(session, InboxFilters(state="done"), scope=NETWORK)
        ] == [question]
        for missing in (command, 10**9):  # a command is not an inbox text
            with pytest.raises(InboxNotFound):
                inbox_item(session, missing, scope=NETWORK)
        assert session.scalars(select(AuditLog.action)).all() == ["inbox.state"]
