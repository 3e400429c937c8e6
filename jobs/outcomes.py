"""What became of claimed outbox rows, written back in batches (one statement per flush)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CursorResult,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update
from sqlalchemy.types import TypeEngine

from jobs.claims import ClaimedMessage
from jobs.last_check import subscribed_now
from sms_service.caregivers import lifecycle
from sms_service.core.models import Caregiver, OutboundMessage, UTCDateTime
from sms_service.delivery.status import apply_early_reports

CaregiverChange = Literal["opted_out", "undeliverable"]


@dataclass(frozen=True, slots=True)
class SendOutcome:
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
# An outcome's fields, and their types as PostgreSQL arrays.
_FIELDS: dict[str, TypeEngine[Any]] = {
    "id": BigInteger(),
    "claimed_at": UTCDateTime(),
    "state": String(),
    "due_at": UTCDateTime(),
    "lease": UTCDateTime(),
    "attempts": Integer(),
    "sid": String(),
    "error_code": String(),
    "error_message": String(),
    "sent_at": UTCDateTime(),
}
# Their bound parameters' names.
_PARAMS = [f"b_{name}" for name in _FIELDS]


def _outcome_update(outcome: Mapping[str, ColumnElement[Any]]) -> Update:
    """Each claimed row set from its `outcome` (bound parameters, or columns of arrays)."""
    return (
        update(_table)
        .where(
            _table.c.id == outcome["id"],
            _table.c.claimed_at == outcome["claimed_at"],
            or_(
                _table.c.state == "sending",
                # The caregiver stopped texts (lifecycle.cancel_queued) while this claim was
                # already with the provider: the row must say what really happened to it. (A
                # row that passed its last check is no longer cancelled; rows claimed before
                # checked_at existed.)
                and_(_table.c.state == "cancelled", outcome["state"] == "sent"),
            ),
        )
        .values(
            state=outcome["state"],
            due_at=outcome["due_at"],
            lease_expires_at=outcome["lease"],
            attempts=outcome["attempts"],
            provider_sid=outcome["sid"],
            error_code=outcome["error_code"],
            error_message=outcome["error_message"],
            sent_at=outcome["sent_at"],
            updated_at=bindparam("b_now"),
            # Back in the queue (a retry, or "sending" until it is reconciled): no longer on its
            # way, so a STOP cancels it, and the next claim passes a last check of its own.
            checked_at=case(
                (or_(outcome["state"] == "pending", outcome["state"] == "sending"), None),
                else_=_table.c.checked_at,
            ),
            # Still unresolved ("sending" again): keep the first uncertain moment; otherwise
            # settled.
            uncertain_since=case(
                (
                    outcome["state"] == "sending",
                    func.coalesce(_table.c.uncertain_since, outcome["claimed_at"]),
                ),
                else_=None,
            ),
        )
    )


# SQLite: one execution per row (sqlite3's executemany loops in C).
_ROW_BY_ROW = _outcome_update(
    {name: bindparam(param) for name, param in zip(_FIELDS, _PARAMS, strict=True)}
)
# PostgreSQL: one statement joining the batch as arrays (unnest), where an executemany sends
# a statement per row and the driver prepares each in Python: half the CPU of a flush.
_ARRAYS = (
    func.unnest(
        *(
            bindparam(param, type_=ARRAY(kind))
            for param, kind in zip(_PARAMS, _FIELDS.values(), strict=True)
        )
    )
    .table_valued(*_FIELDS)
    .render_derived(name="outcome")
)
_ALL_AT_ONCE = _outcome_update(dict(_ARRAYS.c.items()))


def record_outcomes(
    *,
    session: Session,
    results: list[tuple[ClaimedMessage, SendOutcome]],
    now: datetime,
) -> int:
    """Write each claim's outcome; rows whose claim was taken over meanwhile are left alone.

    Returns how many rows were written. Caregivers the provider reported as unsubscribed or
    unreachable change status here, with a carrier-sourced consent event for an opt-out.
    """
    if not results:
        return 0
    rows = [
        (
            claim.id,
            claim.claimed_at,
            outcome.state,
            outcome.due_at or claim.due_at,
            outcome.lease_expires_at,
            claim.attempts if outcome.attempts is None else outcome.attempts,
            outcome.provider_sid,
            outcome.error_code,
            outcome.error_message,
            outcome.sent_at,
        )
        for claim, outcome in results
    ]
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        arrays = {
            name: list(values)
            for name, values in zip(_PARAMS, zip(*rows, strict=True), strict=True)
        }
        result = cast(CursorResult[Any], connection.execute(_ALL_AT_ONCE, {**arrays, "b_now": now}))
    else:
        params = [{**dict(zip(_PARAMS, row, strict=True)), "b_now": now} for row in rows]
        result = cast(CursorResult[Any], connection.execute(_ROW_BY_ROW, params))
    written = result.rowcount
    _cancel_returned(
        session, [claim.id for claim, outcome in results if outcome.state == "pending"], now
    )
    for claim, outcome in results:
        if outcome.caregiver_change is not None:
            _change_caregiver(session, claim, outcome, now)
    sids = [outcome.provider_sid for _claim, outcome in results if outcome.provider_sid]
    apply_early_reports(session, sids, now=now)
    return int(written)


def _cancel_returned(session: Session, ids: list[int], now: datetime) -> None:
    """Rows back in the queue whose caregiver stopped texts meanwhile are cancelled: a STOP
    leaves a text on its way alone (lifecycle.cancel_queued), and it may come back for a retry.
    (A row back to "sending" waits to be reconciled first; its next claim cancels it.)"""
    if not ids:
        return
    session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.id.in_(ids),
            OutboundMessage.state == "pending",
            OutboundMessage.caregiver_id.in_(select(Caregiver.id).where(~subscribed_now(now))),
        )
        .values(
            state="cancelled",
            error_message="caregiver stopped texts while it was on its way",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


def _change_caregiver(
    session: Session, claim: ClaimedMessage, outcome: SendOutcome, now: datetime
) -> None:
    if outcome.caregiver_change == "opted_out":
        error = f"Twilio error {outcome.error_code}: {outcome.error_message or ''}".strip()
        lifecycle.carrier_opt_out(session, claim.caregiver_id, error=error, now=now)
    else:
        lifecycle.mark_undeliverable(
            session, claim.caregiver_id, error_code=outcome.error_code or "", now=now
        )
