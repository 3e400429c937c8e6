"""The last check and a STOP serialize: a text is decided wholly before a STOP commits, or not
sent. A row that passed its check is on its way and the STOP leaves it alone (it is sent and
recorded as sent); a row claimed but not yet checked is cancelled by the STOP and never sent.
With the STOP's transaction held open the check waits for it and refuses; with the check's held
open the STOP waits for it and leaves the row alone."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jobs.claims import ClaimedMessage, claim_batch
from jobs.last_check import LastCheck, mark_checked
from jobs.outcomes import SendOutcome, record_outcomes
from sms_service.caregivers import lifecycle
from sms_service.caregivers.lifecycle import Evidence
from sms_service.core.db import transaction
from sms_service.core.models import Caregiver, OutboundMessage
from sms_service.core.settings import Settings
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.locks import wait_until_blocked
from tests.helpers.settings import make_settings
from tests.jobs.outbox import NOON_NEW_YORK, add_message, add_recipient, dispatch, outbox

STOP = Evidence(source="keyword", text="STOP", keyword="STOP")
LEASE = timedelta(minutes=5)
NOW = NOON_NEW_YORK


def one_claimed(sessions: sessionmaker[Session]) -> ClaimedMessage:
    with transaction(sessions) as session:
        add_message(session, add_recipient(session))
    with transaction(sessions) as session:
        (claim,) = claim_batch(session=session, now=NOW, limit=10, lease=LEASE)
    return claim


def stop(sessions: sessionmaker[Session], caregiver_id: int) -> None:
    with transaction(sessions) as session:
        caregiver = session.get_one(Caregiver, caregiver_id, with_for_update=True)
        lifecycle.opt_out(session, caregiver, evidence=STOP, now=NOW)


def row(sessions: sessionmaker[Session], message_id: int) -> OutboundMessage:
    return outbox(sessions)[message_id]


def on_their_way(sessions: sessionmaker[Session], caregiver_id: int) -> int:
    with transaction(sessions) as session:
        return lifecycle.texts_on_their_way(session, caregiver_id)


def check(sessions: sessionmaker[Session], claim: ClaimedMessage) -> str | None:
    return asyncio.run(LastCheck(sessions).why_not(claim, NOW))


def test_a_checked_row_is_left_to_go_by_the_stop_and_recorded_as_sent(
    sessions: sessionmaker[Session],
) -> None:
    claim = one_claimed(sessions)
    assert check(sessions, claim) is None
    assert row(sessions, claim.id).checked_at == NOW
    stop(sessions, claim.caregiver_id)
    assert row(sessions, claim.id).state == "sending"  # on its way: not hidden as cancelled
    assert on_their_way(sessions, claim.caregiver_id) == 1
    with transaction(sessions) as session:
        outcome = SendOutcome(state="sent", provider_sid="SM" + "1" * 32, sent_at=NOW)
        assert record_outcomes(session=session, results=[(claim, outcome)], now=NOW) == 1
    assert row(sessions, claim.id).state == "sent"
    assert on_their_way(sessions, claim.caregiver_id) == 0


def test_a_claimed_row_not_yet_checked_is_cancelled_by_the_stop_and_refused(
    sessions: sessionmaker[Session],
) -> None:
    claim = one_claimed(sessions)
    stop(sessions, claim.caregiver_id)
    assert row(sessions, claim.id).state == "cancelled"
    assert check(sessions, claim) == "cancelled or taken over while waiting to send"
    assert row(sessions, claim.id).checked_at is None


def test_a_claim_passes_one_check_and_a_takeover_clears_it(
    sessions: sessionmaker[Session],
) -> None:
    claim = one_claimed(sessions)
    assert check(sessions, claim) is None
    assert check(sessions, claim) == "this claim was already checked once"
    later = NOW + LEASE + timedelta(seconds=1)
    with transaction(sessions) as session:
        (takeover,) = claim_batch(session=session, now=later, limit=10, lease=LEASE)
    assert takeover.previous_claim is not None
    assert row(sessions, claim.id).checked_at is None
    assert check(sessions, claim) == "cancelled or taken over while waiting to send"
    assert asyncio.run(LastCheck(sessions).why_not(takeover, later)) is None


def test_a_retry_goes_back_unchecked(sessions: sessionmaker[Session]) -> None:
    claim = one_claimed(sessions)
    other = one_claimed(sessions)
    assert check(sessions, claim) is None and check(sessions, other) is None
    with transaction(sessions) as session:  # one batch of outcomes (one flush)
        ambiguous = SendOutcome(state="sending", lease_expires_at=NOW + timedelta(minutes=1))
        retry = SendOutcome(state="pending", due_at=NOW + timedelta(minutes=1))
        results = [(claim, ambiguous), (other, retry)]
        assert record_outcomes(session=session, results=results, now=NOW) == 2
    assert row(sessions, claim.id).checked_at is None
    assert row(sessions, other.id).checked_at is None
    stop(sessions, claim.caregiver_id)  # an ambiguous send waiting to be reconciled: cancelled
    assert row(sessions, claim.id).state == "cancelled"


def test_a_text_on_its_way_at_the_stop_that_comes_back_for_a_retry_is_cancelled(
    sessions: sessionmaker[Session],
) -> None:
    claim = one_claimed(sessions)
    assert check(sessions, claim) is None
    stop(sessions, claim.caregiver_id)
    with transaction(sessions) as session:  # Twilio answered 429: back to pending
        retry = SendOutcome(state="pending", due_at=NOW + timedelta(minutes=1))
        record_outcomes(session=session, results=[(claim, retry)], now=NOW)
    assert row(sessions, claim.id).state == "cancelled"


def test_a_stop_committed_while_the_text_is_at_twilio_leaves_it_sent(
    sessions: sessionmaker[Session], database_url: str, fake_twilio: FakeTwilio
) -> None:
    settings: Settings = make_settings(database_url, SMS_TIPS_SEND_RATE="20")
    with transaction(sessions) as session:
        caregiver_id = add_message(session, add_recipient(session)).caregiver_id
    seen: list[tuple[str, Any, int]] = []

    def stop_now(message: dict[str, Any]) -> None:
        # The request reached Twilio: the STOP commits now, before the SID is recorded.
        with transaction(sessions) as session:
            caregiver = session.get_one(Caregiver, caregiver_id, with_for_update=True)
            lifecycle.opt_out(session, caregiver, evidence=STOP, now=NOW)
        current = next(iter(outbox(sessions).values()))
        seen.append((current.state, current.checked_at, on_their_way(sessions, caregiver_id)))

    fake_twilio.on_create = stop_now
    dispatch(sessions, settings, fake_twilio)
    assert seen == [("sending", NOW, 1)]
    (sent,) = outbox(sessions).values()
    assert sent.state == "sent" and sent.provider_sid is not None
    assert len(fake_twilio.messages) == 1


def _wait_until_blocked(engine: Engine, worker: threading.Thread) -> None:
    """Until `worker` waits for a lock: on PostgreSQL seen in pg_stat_activity; on SQLite a
    writer waits in BEGIN IMMEDIATE (busy_timeout)."""
    if engine.dialect.name != "postgresql":
        worker.join(timeout=0.5)
    wait_until_blocked(engine, worker)
    assert worker.is_alive()


def test_a_check_racing_an_uncommitted_stop_waits_for_it_and_refuses(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    claim = one_claimed(sessions)
    cancelled, release = threading.Event(), threading.Event()

    def held_stop() -> None:
        with transaction(sessions) as session:
            caregiver = session.get_one(Caregiver, claim.caregiver_id, with_for_update=True)
            lifecycle.opt_out(session, caregiver, evidence=STOP, now=NOW)
            session.flush()
            cancelled.set()
            assert release.wait(20)

    stopping = threading.Thread(target=held_stop)
    stopping.start()
    assert cancelled.wait(10)
    verdicts: list[str | None] = []
    checking = threading.Thread(target=lambda: verdicts.append(check(sessions, claim)))
    checking.start()
    try:
        _wait_until_blocked(engine, checking)
        assert verdicts == []  # the check waits for the STOP's commit...
    finally:
        release.set()
        stopping.join(timeout=20)
        checking.join(timeout=20)
    assert verdicts == ["cancelled or taken over while waiting to send"]  # ...and refuses
    assert row(sessions, claim.id).state == "cancelled"
    assert row(sessions, claim.id).checked_at is None


def test_a_stop_racing_an_uncommitted_check_waits_for_it_and_leaves_the_row_to_go(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    claim = one_claimed(sessions)
    checked, release = threading.Event(), threading.Event()
    passed: list[int] = []

    def held_check() -> None:
        with transaction(sessions) as session:
            passed.extend(mark_checked(session.connection(), [claim], NOW))
            checked.set()
            assert release.wait(20)

    checking = threading.Thread(target=held_check)
    checking.start()
    assert checked.wait(10)
    assert passed == [claim.id]
    stopping = threading.Thread(target=stop, args=(sessions, claim.caregiver_id))
    stopping.start()
    try:
        _wait_until_blocked(engine, stopping)
    finally:
        release.set()
        checking.join(timeout=20)
        stopping.join(timeout=20)
    assert not stopping.is_alive()
    after = row(sessions, claim.id)
    assert (after.state, after.checked_at) == ("sending", NOW)  # decided before the STOP
    assert on_their_way(sessions, claim.caregiver_id) == 1
