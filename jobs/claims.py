"""Claiming due outbox rows for one dispatcher, with a lease, so no two dispatchers send a row.

A claim selects due rows and marks them "sending" (attempts + 1 for a pending row, claimed_at,
lease_expires_at) in one transaction. On PostgreSQL the SELECT takes row locks with FOR UPDATE
SKIP LOCKED, so concurrent dispatchers each get different rows without waiting on each other.
On SQLite the transaction starts with BEGIN IMMEDIATE (sms_service.core.db), which holds the
database's single write lock from the SELECT to the COMMIT: a claim is atomic and claims queue.

Rows still "sending" whose lease has expired belonged to a dispatcher that died (or that is
waiting to retry an ambiguous send). They are claimed again with `previous_claim` set to the
first uncertain moment (`uncertain_since`, kept across failed reconciliations): the dispatcher
must ask the provider whether any attempt since then went out before sending again.
`claimed_at` identifies a claim: results are written only where it still matches. A claim
clears `checked_at`: the new claim's send passes a last check of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select, update
from sqlalchemy.orm import Session

from sms_service.core.models import Caregiver, OutboundMessage


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """One claimed outbox row with what the dispatcher needs to decide and send."""

    id: int
    claimed_at: datetime
    attempts: int
    to_number: str
    body: str
    segments: int
    due_at: datetime
    previous_claim: datetime | None  # set when a dead claim is taken over: reconcile first
    caregiver_id: int
    caregiver_status: str
    paused_until: datetime | None
    timezone: str
    region: str | None
    kind: str = "tip"  # the outbox row's kind (tip, campaign, ...), for the metrics
    sender: str | None = None  # the partner's own number or Messaging Service; None: ours


_COLUMNS = (
    OutboundMessage.id,
    OutboundMessage.kind,
    OutboundMessage.state,
    OutboundMessage.attempts,
    OutboundMessage.to_number,
    OutboundMessage.sender,
    OutboundMessage.body,
    OutboundMessage.segments,
    OutboundMessage.claimed_at,
    OutboundMessage.uncertain_since,
    OutboundMessage.due_at,
    Caregiver.id.label("caregiver_id"),
    Caregiver.status.label("caregiver_status"),
    Caregiver.paused_until,
    Caregiver.timezone,
    Caregiver.region,
)


def _candidates() -> Select[*tuple[Any, ...]]:
    return (
        select(*_COLUMNS)
        .join(Caregiver, Caregiver.id == OutboundMessage.caregiver_id)
        .with_for_update(skip_locked=True, of=OutboundMessage)
    )


def claim_batch(
    *, session: Session, now: datetime, limit: int, lease: timedelta
) -> list[ClaimedMessage]:
    """Claim up to `limit` due rows: expired leases first (they are oldest), then pending."""
    rows = list(
        session.execute(
            _candidates()
            .where(OutboundMessage.state == "sending", OutboundMessage.lease_expires_at <= now)
            .order_by(OutboundMessage.lease_expires_at)
            .limit(limit)
        )
    )
    if len(rows) < limit:
        rows += session.execute(
            _candidates()
            .where(OutboundMessage.state == "pending", OutboundMessage.due_at <= now)
            .order_by(OutboundMessage.due_at, OutboundMessage.id)
            .limit(limit - len(rows))
        )
    if not rows:
        return []
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id.in_([row.id for row in rows]))
        .values(
            state="sending",
            # A takeover continues the attempt of the claim it takes over (the dispatcher
            # counts it once it asks Twilio in vain or sends again), so dispatchers killed
            # while holding a row do not use up its retries.
            attempts=case(
                (OutboundMessage.state == "pending", OutboundMessage.attempts + 1),
                else_=OutboundMessage.attempts,
            ),
            claimed_at=now,
            lease_expires_at=now + lease,
            # Every send attempt passes a last check of its own (jobs/last_check.py).
            checked_at=None,
            # A dead claim's send may have reached the provider: remember the first such moment
            # until an outcome settles it (a failed reconciliation must not move it forward).
            uncertain_since=case(
                (
                    OutboundMessage.state == "sending",
                    func.coalesce(OutboundMessage.uncertain_since, OutboundMessage.claimed_at),
                ),
                else_=None,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    return [
        ClaimedMessage(
            id=row.id,
            claimed_at=now,
            attempts=row.attempts + (1 if row.state == "pending" else 0),
            to_number=row.to_number,
            body=row.body,
            segments=max(row.segments, 1),
            due_at=row.due_at,
            previous_claim=(
                (row.uncertain_since or row.claimed_at or row.due_at)
                if row.state == "sending"
                else None
            ),
            caregiver_id=row.caregiver_id,
            caregiver_status=row.caregiver_status,
            paused_until=row.paused_until,
            timezone=row.timezone,
            region=row.region,
            kind=row.kind,
            sender=row.sender,
        )
        for row in rows
    ]
