"""The dispatcher against the fake Twilio: sending, consent re-checks, windows, error classes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.claims import claim_batch
from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, Caregiver, ConsentEvent
from sms_service.core.settings import Settings
from tests.fakes.twilio_server import FakeTwilio, Fault
from tests.helpers.settings import TEST_MESSAGING_SERVICE_SID, make_settings
from tests.jobs.outbox import NOON_NEW_YORK, add_message, add_recipient, dispatch, outbox


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, SMS_TIPS_SEND_RATE="1000")


def test_due_messages_are_sent_once_with_sid_and_status_callback(
    sessions: sessionmaker[Session], settings: Settings, fake_twilio: FakeTwilio
) -> None:
    with transaction(sessions) as session:
        people = [add_recipient(session) for _ in range(3)]
        due = [add_message(session, person) for person in people]
        later = add_message(session, people[0], due_at=NOON_NEW_YORK + timedelta(hours=1))
        expected = {(m.to_number, m.body) for m in due}

    dispatch(sessions, settings, fake_twilio)

    received = {(m["to"], m["body"]) for m in fake_twilio.messages}
    assert received == expected
    creates = [r for r in fake_twilio.requests if r.method == "POST"]
    assert len(creates) == 3
    for request in creates:
        assert request.form["MessagingServiceSid"] == TEST_MESSAGING_SERVICE_SID
        assert request.form["StatusCallback"] == "https://tips.example.test/sms/status"
    rows = outbox(sessions)
    sids = {m["to"]: m["sid"] for m in fake_twilio.messages}
    for message in due:
        row = rows[message.id]
        assert row.state == "sent"
        assert row.provider_sid == sids[row.to_number]
        assert row.attempts == 1
        assert row.sent_at is not None
    assert rows[later.id].state == "pending"

    dispatch(sessions, settings, fake_twilio)  # nothing new is due: nothing is sent again
    assert len(fake_twilio.messages) == 3


def test_no_more_requests_in_flight_than_the_concurrency_however_many_connections(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    # Twilio refuses an account's requests beyond its concurrency limit (error 20429). The
    # dispatcher prepares more texts than that at once, but hands over only so many.
    settings = make_settings(
        database_url, SMS_TIPS_SEND_RATE="1000", SMS_TIPS_DISPATCH_CONCURRENCY="4"
    )
    with transaction(sessions) as session:
        numbers = [add_message(session, add_recipient(session)).to_number for _ in range(24)]

    with FakeTwilio(latency=0.1) as fake:
        dispatcher = dispatch(sessions, settings, fake, max_connections=50)
        assert fake.violations == []

    assert fake.peak_in_flight == 4
    assert sorted(m["to"] for m in fake.messages) == sorted(numbers)
    assert dispatcher.stats.sent == 24


@pytest.mark.parametrize(
    ("status", "paused_until", "reason"),
    [
        ("opted_out", None, "opted out"),
        ("undeliverable", None, "undeliverable"),
        ("paused", NOON_NEW_YORK + timedelta(days=7), "paused"),
    ],
)
def test_opt_out_or_pause_after_planning_stops_the_send(
    sessions: sessionmaker[Session],
    settings: Settings,
    fake_twilio: FakeTwilio,
    status: str,
    paused_until: datetime | None,
    reason: str,
) -> None:
    with transaction(sessions) as session:
        stays = add_recipient(session)
        leaves = add_recipient(session)
        kept = add_message(session, stays)
        stopped = add_message(session, leaves)
        number = leaves.phone
    # The caregiver texts STOP (or pauses) after the planner wrote the row.
    with transaction(sessions) as session:
        caregiver = session.get_one(Caregiver, leaves.id)
        caregiver.status = status
        caregiver.paused_until = paused_until

    dispatch(sessions, settings, fake_twilio)

    assert fake_twilio.sent_to(number) == []
    assert not [r for r in fake_twilio.requests if r.form.get("To") == number]
    rows = outbox(sessions)
    assert rows[stopped.id].state == "cancelled"
    assert reason in (rows[stopped.id].error_message or "")
    assert rows[kept.id].state == "sent"


def test_a_pause_that_has_ended_does_not_stop_the_send(
    sessions: sessionmaker[Session], settings: Settings, fake_twilio: FakeTwilio
) -> None:
    with transaction(sessions) as session:
        person = add_recipient(
            session, status="paused", paused_until=NOON_NEW_YORK - timedelta(hours=1)
        )
        message = add_message(session, person)

    dispatch(sessions, settings, fake_twilio)

    assert outbox(sessions)[message.id].state == "sent"
    assert len(fake_twilio.sent_to(person.phone)) == 1


def test_nothing_goes_out_in_quiet_hours_it_waits_for_the_window(
    sessions: sessionmaker[Session], settings: Settings, fake_twilio: FakeTwilio
) -> None:
    # 20:30 in New York is inside the default window (until 21:00), but Florida ends at 20:00.
    evening = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    with transaction(sessions) as session:
        florida = add_recipient(session, region="FL")
        new_york = add_recipient(session, region="NY")
        late = add_message(session, florida, due_at=evening - timedelta(minutes=5))
        fine = add_message(session, new_york, due_at=evening - timedelta(minutes=5))

    dispatch(sessions, settings, fake_twilio, now=evening)

    rows = outbox(sessions)
    assert rows[fine.id].state == "sent"
    assert rows[late.id].state == "pending"
    assert rows[late.id].attempts == 0
    # 08:00 the next morning in New York (EST, UTC-5).
    assert rows[late.id].due_at == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    assert fake_twilio.sent_to(florida.phone) == []


def test_rate_limited_send_is_retried_after_retry_after(
    sessions: sessionmaker[Session], settings: Settings, fake_twilio: FakeTwilio
) -> None:
    with transaction(sessions) as session:
        person = add_recipient(session)
        message = add_message(session, person)
    fake_twilio.add_fault(
        Fault(status=429, code=20429, message="Too Many Requests", retry_after=600), times=1
    )

    dispatch(sessions, settings, fake_twilio)

    row = outbox(sessions)[message.id]
    assert row.state == "pending"
    assert row.error_code == "20429"
    assert row.attempts == 1
    assert row.due_at >= NOON_NEW_YORK + timedelta(seconds=600)
    assert fake_twilio.sent_to(person.phone) == []

    dispatch(sessions, settings, fake_twilio, now=row.due_at)

    row = outbox(sessions)[message.id]
    assert row.state == "sent"
    assert row.attempts == 2
    assert [m["sid"] for m in fake_twilio.sent_to(person.phone)] == [row.provider_sid]


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=400, code=21611, message="This 'From' number has exceeded the queue"),
        Fault(status=400, code=30001, message="Queue overflow"),
    ],
)
def test_full_queue_backs_off_exponentially_then_gives_up(
    sessions: sessionmaker[Session], settings: Settings, fake_twilio: FakeTwilio, fault: Fault
) -> None:
    with transaction(sessions) as session:
        person = add_recipient(session)
        message = add_message(session, person)
    fake_twilio.add_fault(fault, times=10)

    now = NOON_NEW_YORK
    delays = []
    for _ in range(3):
        dispatch(sessions, settings, fake_twilio, now=now)
        row = outbox(sessions)[message.id]
        assert row.state == "pending"
        assert row.error_code == str(fault.code)
        delays.append((row.due_at - now).total_seconds())
        now = row.due_at
    # 30 s base doubling, with +-50% jitter: 15-45, 30-90, 60-180.
    assert 15 <= delays[0] <= 45
    assert 30 <= delays[1] <= 90
    assert 60 <= delays[2] <= 180

    dispatch(sessions, settings, fake_twilio, now=now)  # the 4th attempt is the last

    row = outbox(sessions)[message.id]
    assert row.state == "failed"
    assert "gave up after 4 attempts" in (row.error_message or "")
    assert fake_twilio.sent_to(person.phone) == []


def test_retry_that_would_land_in_quiet_hours_waits_for_the_morning(
    sessions: sessionmaker[Session], settings: Settings, fake_twilio: FakeTwilio
) -> None:
    almost_nine = datetime(2026, 11, 24, 1, 59, tzinfo=UTC)  # 20:59 in New York
    with transaction(sessions) as session:
        message = add_message(session, add_recipient(session), due_at=almost_nine)
    fake_twilio.add_fault(Fault(status=429, code=20429, retry_after=120))

    dispatch(sessions, settings, fake_twilio, now=almost_nine)

    row = outbox(sessions)[message.id]
    assert row.state == "pending"
    assert row.due_at == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # 08:00 New York


def test_carrier_unsubscribed_marks_caregiver_opted_out_with_consent_event(
    sessions: sessionmaker[Session], settings: Settings, fake_twilio: FakeTwilio
) -> None:
    with transaction(sessions) as session:
        person = add_recipient(session)
        person.conversation_step, person.conversation_data = "schedule", {"mode": "time"}
        first = add_message(session, person)
        second = add_message(session, person, due_at=NOON_NEW_YORK + timedelta(days=7))
    fake_twilio.add_fault(
        Fault(status=400, code=21610, message="Attempt to send to unsubscribed recipient"),
        to=person.phone,
    )

    dispatch(sessions, settings, fake_twilio)

    rows = outbox(sessions)
    assert rows[first.id].state == "failed"
    assert rows[first.id].error_code == "21610"
    # Like a STOP: what was waiting is cancelled at once and any question under way is dropped.
    assert (rows[second.id].state, rows[second.id].error_message) == (
        "cancelled",
        "caregiver opted out",
    )
    with transaction(sessions) as session:
        caregiver = session.get_one(Caregiver, person.id)
        assert caregiver.status == "opted_out"
        assert caregiver.opted_out_at is not None
        assert (caregiver.conversation_step, caregiver.conversation_data) == (None, {})
        events = session.scalars(
            select(ConsentEvent).where(ConsentEvent.caregiver_id == person.id)
        ).all()
        assert [(e.kind, e.source) for e in events] == [("opt_out", "carrier")]
        assert "21610" in events[0].text

    # Next week's row is never sent: the dispatcher now sees an opted-out caregiver.
    dispatch(sessions, settings, fake_twilio, now=NOON_NEW_YORK + timedelta(days=7, minutes=1))
    assert outbox(sessions)[second.id].state == "cancelled"
    assert fake_twilio.sent_to(person.phone) == []


@pytest.mark.parametrize("code", [21211, 21612, 21614])
def test_invalid_or_landline_number_is_marked_undeliverable(
    sessions: sessionmaker[Session], settings: Settings, fake_twilio: FakeTwilio, code: int
) -> None:
    with transaction(sessions) as session:
        person = add_recipient(session)
        message = add_message(session, person)
        later = add_message(session, person, due_at=NOON_NEW_YORK + timedelta(days=7))
    fake_twilio.add_fault(Fault(status=400, code=code, message="not a mobile number"))

    dispatch(sessions, settings, fake_twilio)

    rows = outbox(sessions)
    assert (rows[message.id].state, rows[message.id].error_code) == ("failed", str(code))
    assert rows[later.id].state == "cancelled"
    with transaction(sessions) as session:
        assert session.get_one(Caregiver, person.id).status == "undeliverable"
        assert session.scalars(select(ConsentEvent)).all() == []
        # Staff can see which error made the number undeliverable, and when.
        [entry] = session.scalars(select(AuditLog)).all()
        assert (entry.action, entry.detail) == (
            "caregiver.undeliverable",
            {"error_code": str(code)},
        )


def test_any_other_refusal_fails_the_row_keeping_code_and_message(
    sessions: sessionmaker[Session], settings: Settings, fake_twilio: FakeTwilio
) -> None:
    with transaction(sessions) as session:
        person = add_recipient(session)
        message = add_message(session, person)
    fake_twilio.add_fault(Fault(status=400, code=21606, message="The From number is not valid"))

    dispatch(sessions, settings, fake_twilio)

    row = outbox(sessions)[message.id]
    assert row.state == "failed"
    assert row.error_code == "21606"
    assert "The From number is not valid" in (row.error_message or "")
    with transaction(sessions) as session:
        assert session.get_one(Caregiver, person.id).status == "active"


@pytest.mark.parametrize(
    "fault",
    [
        Fault(kind="reset", after_create=True),
        Fault(kind="error", status=500, code=20500, after_create=True),
        Fault(kind="hang", delay=3.0, after_create=True),
    ],
    ids=["reset-after-create", "500-after-create", "timeout-after-create"],
)
def test_ambiguous_failure_is_reconciled_not_sent_twice(
    sessions: sessionmaker[Session], settings: Settings, fake_twilio: FakeTwilio, fault: Fault
) -> None:
    with transaction(sessions) as session:
        person = add_recipient(session)
        message = add_message(session, person)
    fake_twilio.add_fault(fault)

    dispatch(sessions, settings, fake_twilio, timeout=1.0)

    row = outbox(sessions)[message.id]
    assert row.state == "sending"  # unknown outcome: held for reconciliation, not resent
    assert row.lease_expires_at is not None
    assert row.lease_expires_at >= NOON_NEW_YORK + timedelta(seconds=15)

    dispatch(sessions, settings, fake_twilio, now=row.lease_expires_at)

    row = outbox(sessions)[message.id]
    created = fake_twilio.sent_to(person.phone)
    assert len(created) == 1, "reconciliation must find the first send"
    assert [r.query["To"] for r in fake_twilio.requests if r.method == "GET"] == [person.phone]
    assert row.state == "sent"
    assert row.provider_sid == created[0]["sid"]


def test_reset_before_twilio_created_anything_sends_again_once(
    sessions: sessionmaker[Session], settings: Settings, fake_twilio: FakeTwilio
) -> None:
    with transaction(sessions) as session:
        person = add_recipient(session)
        message = add_message(session, person)
    fake_twilio.add_fault(Fault(kind="reset"))

    dispatch(sessions, settings, fake_twilio)
    lease = outbox(sessions)[message.id].lease_expires_at
    assert lease is not None
    assert fake_twilio.sent_to(person.phone) == []

    dispatch(sessions, settings, fake_twilio, now=lease)

    created = fake_twilio.sent_to(person.phone)
    assert len(created) == 1
    assert outbox(sessions)[message.id].provider_sid == created[0]["sid"]
    lists = [r for r in fake_twilio.requests if r.method == "GET"]
    assert lists and all(r.query["To"] == person.phone for r in lists)


def test_a_row_that_waited_out_most_of_its_lease_is_handed_back_not_raced(
    database_url: str, sessions: sessionmaker[Session], fake_twilio: FakeTwilio
) -> None:
    slow = make_settings(database_url, SMS_TIPS_SEND_RATE="2")  # 1 text every half second
    with transaction(sessions) as session:
        people = [add_recipient(session) for _ in range(3)]
        for person in people:
            add_message(session, person)
    started = datetime.now(UTC)

    dispatcher = dispatch(
        sessions,
        slow,
        fake_twilio,
        clock=lambda: NOON_NEW_YORK + (datetime.now(UTC) - started),
        lease=timedelta(seconds=0.8),
    )

    # Rows claimed together wait in line for the rate; those whose lease ran short went back
    # to pending and were claimed again, and every text still went out exactly once.
    assert dispatcher.stats.claimed > 3
    assert sorted(m["to"] for m in fake_twilio.messages) == sorted(p.phone for p in people)
    assert {row.state for row in outbox(sessions).values()} == {"sent"}


def test_a_failed_reconciliation_keeps_searching_from_the_first_uncertain_send(
    sessions: sessionmaker[Session], settings: Settings, fake_twilio: FakeTwilio
) -> None:
    # A dispatcher claimed the row, Twilio accepted the text, and the dispatcher died.
    first_claim = NOON_NEW_YORK - timedelta(minutes=10)
    with transaction(sessions) as session:
        person = add_recipient(session)
        message = add_message(session, person, due_at=first_claim)
        message.state, message.attempts = "sending", 1
        message.claimed_at, message.lease_expires_at = first_claim, NOON_NEW_YORK
        body = message.body
    fake_twilio.add_message(to=person.phone, body=body, sent_at=first_claim + timedelta(seconds=1))
    # The next dispatcher cannot ask Twilio (its list query fails), so it must wait...
    fake_twilio.fail_lists(Fault(status=503, code=20503, message="Service unavailable"))

    dispatch(sessions, settings, fake_twilio, now=NOON_NEW_YORK)

    row = outbox(sessions)[message.id]
    assert row.state == "sending" and row.lease_expires_at is not None
    # ...and the one after that still searches from the first claim, not from its own.
    dispatch(sessions, settings, fake_twilio, now=row.lease_expires_at)

    row = outbox(sessions)[message.id]
    assert len(fake_twilio.sent_to(person.phone)) == 1, "sent twice"
    assert (row.state, row.provider_sid) == ("sent", fake_twilio.sent_to(person.phone)[0]["sid"])
    assert row.uncertain_since is None


def test_dispatchers_killed_while_holding_a_row_do_not_use_up_its_retries(
    sessions: sessionmaker[Session], settings: Settings, fake_twilio: FakeTwilio
) -> None:
    # Found by tests/reliability/test_crash_loop.py: every takeover counted as an attempt, so a
    # text whose dispatchers kept dying was given up at the first failed reconciliation.
    lease = timedelta(minutes=5)
    with transaction(sessions) as session:
        person = add_recipient(session)
        message = add_message(session, person)
    for death in range(5):  # five dispatchers claim the text and die before calling Twilio
        with transaction(sessions) as session:
            claim_batch(session=session, now=NOON_NEW_YORK + lease * death, limit=5, lease=lease)
    # The next cannot ask Twilio whether the text went: one failed try, not the last of four.
    fake_twilio.fail_lists(Fault(status=503, code=20503, message="Service unavailable"))

    dispatch(sessions, settings, fake_twilio, now=NOON_NEW_YORK + lease * 5)

    row = outbox(sessions)[message.id]
    assert (row.state, row.attempts) == ("sending", 2)
    dispatch(sessions, settings, fake_twilio, now=row.lease_expires_at)
    row = outbox(sessions)[message.id]
    assert (row.state, row.attempts) == ("sent", 3)
    assert [m["sid"] for m in fake_twilio.sent_to(person.phone)] == [row.provider_sid]
