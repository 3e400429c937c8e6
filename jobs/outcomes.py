"""What became of claimed outbox rows, written back in batches (one executemany per flush)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, Table, bindparam, insert, update
from sqlalchemy.orm import Session

from jobs.claims import ClaimedMessage
from sms_service.core.models import Caregiver, ConsentEvent, OutboundMessage

CaregiverChange = Literal["opted_out", "undeliverable"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """The new values of one claimed row (and of its caregiver, when the provider said so)."""

    state: str
    due_at: datetime | None = None  # None keeps the planned time
    lease_expires_at: datetime | None = None
    attempts: int | None = None  # None keeps the claim's count
    provider_sid: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    sent_at: datetime | None = None
    caregiver_change: CaregiverChange | None = None


_table = cast(Table, OutboundMessage.__table__)
_UPDATE = (
    update(_table)
    .where(
        _table.c.id == bindparam("b_id"),
        _table.c.claimed_at == bindparam("b_claimed_at"),
        _table.c.state == "sending",
    )
    .values(
        state=bindparam("b_state"),
        due_at=bindparam("b_due_at"),
        lease_expires_at=bindparam("b_lease"),
        attempts=bindparam("b_attempts"),
        provider_sid=bindparam("b_sid"),
        error_code=bindparam("b_error_code"),
        error_message=bindparam("b_error_message"),
        sent_at=bindparam("b_sent_at"),
        updated_at=bindparam("b_now"),
    )
)


def record_outcomes(
    *,
    session: Session,
    results: list[tuple[ClaimedMessage, Outcome]],
    now: datetime,
) -> int:
    """Write each claim's outcome; rows whose claim was taken over meanwhile are left alone.

    Returns how many rows were written. Caregivers the provider reported as unsubscribed or
    unreachable change status here, with a carrier-sourced consent event for an opt-out.
    """
    if not results:
        return 0
    params = [
        {
            "b_id": claim.id,
            "b_claimed_at": claim.claimed_at,
            "b_state": outcome.state,
            "b_due_at": outcome.due_at or claim.due_at,
            "b_lease": outcome.lease_expires_at,
            "b_attempts": claim.attempts if outcome.attempts is None else outcome.attempts,
            "b_sid": outcome.provider_sid,
            "b_error_code": outcome.error_code,
            "b_error_message": outcome.error_message,
            "b_sent_at": outcome.sent_at,
            "b_now": now,
        }
        for claim, outcome in results
    ]
    result = cast(CursorResult[Any], session.connection().execute(_UPDATE, params))
    written = result.rowcount
    for claim, outcome in results:
        if outcome.caregiver_change is not None:
            _change_caregiver(session, claim, outcome, now)
    return int(written)


def _change_caregiver(
    session: Session, claim: ClaimedMessage, outcome: Outcome, now: datetime
) -> None:
    values: dict[str, object] = {"status": outcome.caregiver_change, "updated_at": now}
    if outcome.caregiver_change == "opted_out":
        values["opted_out_at"] = now
    changed = (
        session.connection()
        .execute(
            update(Caregiver)
            .where(Caregiver.id == claim.caregiver_id, Caregiver.status != outcome.caregiver_change)
            .values(**values)
        )
        .rowcount
    )
    if changed and outcome.caregiver_change == "opted_out":
        session.execute(
            insert(ConsentEvent).values(
                caregiver_id=claim.caregiver_id,
                kind="opt_out",
                source="carrier",
                text=f"Twilio error {outcome.error_code}: {outcome.error_message or ''}".strip(),
                created_at=now,
            )
        )
