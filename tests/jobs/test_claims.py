"""Claiming outbox rows: leases, order, expired leases, concurrent claimers never overlapping."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from jobs.claims import ClaimedMessage, claim_batch
from sms_service.core.db import transaction
from tests.jobs.outbox import NOON_NEW_YORK, add_message, add_recipient, outbox

LEASE = timedelta(minutes=5)


def claim(
    sessions: sessionmaker[Session], limit: int, now: datetime = NOON_NEW_YORK
) -> list[ClaimedMessage]:
    with transaction(sessions) as session:
        return claim_batch(session=session, now=now, limit=limit, lease=LEASE)


def test_claim_takes_due_pending_rows_oldest_first_and_leases_them(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        person = add_recipient(session)
        oldest = add_message(session, person, due_at=NOON_NEW_YORK - timedelta(hours=2))
        older = add_message(session, person, due_at=NOON_NEW_YORK - timedelta(hours=1))
        newest = add_message(session, person, due_at=NOON_NEW_YORK)
        future = add_message(session, person, due_at=NOON_NEW_YORK + timedelta(seconds=1))
        done = add_message(session, person, due_at=NOON_NEW_YORK - timedelta(days=1))
        done.state = "sent"
        gone = add_message(session, person, due_at=NOON_NEW_YORK - timedelta(days=1))
        gone.state = "cancelled"

    first = claim(sessions, limit=2)
    second = claim(sessions, limit=10)

    assert [c.id for c in first] == [oldest.id, older.id]
    assert [c.id for c in second] == [newest.id]
    rows = outbox(sessions)
    for claimed in (*first, *second):
        row = rows[claimed.id]
        assert row.state == "sending"
        assert row.attempts == claimed.attempts == 1
        assert row.claimed_at == claimed.claimed_at == NOON_NEW_YORK
        assert row.lease_expires_at == NOON_NEW_YORK + LEASE
        assert claimed.previous_claim is None
        assert claimed.caregiver_status == "active"
    assert rows[future.id].state == "pending"
    assert (rows[done.id].state, rows[gone.id].state) == ("sent", "cancelled")


def test_a_live_lease_is_left_alone_an_expired_one_is_taken_over_for_reconciliation(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        message = add_message(session, add_recipient(session))
    [first] = claim(sessions, limit=5)

    assert claim(sessions, limit=5, now=NOON_NEW_YORK + LEASE - timedelta(seconds=1)) == []
    [again] = claim(sessions, limit=5, now=NOON_NEW_YORK + LEASE)

    assert again.id == message.id == first.id
    assert again.previous_claim == NOON_NEW_YORK  # reconcile since the dead claim
    assert again.attempts == 1  # a takeover is no attempt until it asks Twilio or sends
    assert outbox(sessions)[message.id].claimed_at == NOON_NEW_YORK + LEASE


def test_concurrent_claimers_get_disjoint_rows(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        person = add_recipient(session)
        ids = {add_message(session, person).id for _ in range(10)}

    holder_claimed: list[ClaimedMessage] = []
    other_claimed: list[ClaimedMessage] = []
    holding = threading.Event()

    def hold_a_claim_open() -> None:
        with transaction(sessions) as session:
            holder_claimed.extend(
                claim_batch(session=session, now=NOON_NEW_YORK, limit=5, lease=LEASE)
            )
            holding.set()
            time.sleep(0.5)  # the other claimer runs while these rows are locked, uncommitted

    holder = threading.Thread(target=hold_a_claim_open)
    holder.start()
    assert holding.wait(10)
    other_claimed.extend(claim(sessions, limit=10))
    holder.join()

    # PostgreSQL skips the locked rows; SQLite waits for the holder's commit. Either way:
    first, second = {c.id for c in holder_claimed}, {c.id for c in other_claimed}
    assert len(first) == 5
    assert first.isdisjoint(second)
    assert first | second == ids


def test_many_claimers_in_parallel_claim_each_row_exactly_once(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        person = add_recipient(session)
        ids = [add_message(session, person).id for _ in range(200)]
    claimed: list[list[int]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def claimer(index: int) -> None:
        start.wait()
        while batch := claim(sessions, limit=7):
            claimed[index].extend(c.id for c in batch)

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    everything = [row_id for batch in claimed for row_id in batch]
    assert sorted(everything) == sorted(ids)
