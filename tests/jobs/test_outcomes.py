"""One flush writes each claimed row its own outcome (one statement of arrays on PostgreSQL, an
executemany on SQLite), and leaves alone a row whose claim was taken over meanwhile."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from jobs.claims import claim_batch
from jobs.outcomes import SendOutcome, record_outcomes
from sms_service.core.db import transaction
from tests.jobs.outbox import NOON_NEW_YORK, add_message, add_recipient, outbox

NOW = NOON_NEW_YORK
LATER = NOW + timedelta(minutes=3)


def test_one_flush_writes_each_row_its_own_outcome(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        for _ in range(5):
            add_message(session, add_recipient(session))
    with transaction(sessions) as session:
        sent, retry, ambiguous, refused, taken_over = claim_batch(
            session=session, now=NOW, limit=10, lease=timedelta(minutes=5)
        )
    outcomes = [
        (sent, SendOutcome(state="sent", provider_sid="SM" + "a" * 32, sent_at=LATER)),
        (
            retry,
            SendOutcome(
                state="pending",
                due_at=NOW + timedelta(minutes=30),
                attempts=0,
                error_code="20429",
                error_message="Too many requests",
            ),
        ),
        (
            ambiguous,
            SendOutcome(
                state="sending",
                lease_expires_at=NOW + timedelta(minutes=9),
                error_message="no answer from Twilio: TimeoutError",
            ),
        ),
        (refused, SendOutcome(state="failed", error_code="21211", error_message="Invalid To")),
        # Another dispatcher's claim has this row now: this one's outcome must not land.
        (replace(taken_over, claimed_at=NOW - timedelta(seconds=1)), SendOutcome(state="sent")),
    ]

    with transaction(sessions) as session:
        written = record_outcomes(session=session, results=outcomes, now=LATER)

    rows = outbox(sessions)
    assert written == 4
    assert (rows[sent.id].state, rows[sent.id].provider_sid) == ("sent", "SM" + "a" * 32)
    assert rows[sent.id].sent_at == LATER and rows[sent.id].updated_at == LATER
    assert rows[sent.id].due_at == sent.due_at  # the planned time is kept
    assert (rows[retry.id].state, rows[retry.id].due_at) == ("pending", NOW + timedelta(minutes=30))
    assert (rows[retry.id].attempts, rows[retry.id].error_code) == (0, "20429")
    assert rows[retry.id].provider_sid is None and rows[retry.id].checked_at is None
    assert rows[ambiguous.id].state == "sending"
    assert rows[ambiguous.id].lease_expires_at == NOW + timedelta(minutes=9)
    assert rows[ambiguous.id].uncertain_since == NOW  # reconciled from its claim on
    assert rows[ambiguous.id].attempts == 1
    assert (rows[refused.id].state, rows[refused.id].error_code) == ("failed", "21211")
    assert rows[refused.id].error_message == "Invalid To"
    assert rows[taken_over.id].state == "sending" and rows[taken_over.id].provider_sid is None
