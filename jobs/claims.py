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
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, select, update
from sqlalchemy.orm import Session

from sms_service.core.id_lists import in_ids
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


# Core statements on the tables, built once: the ORM's per-statement compile state and cache
# key cost more than the claim itself (the dispatcher claims a few times a second).
_outbox = cast(Table, OutboundMessage.__table__)
_caregivers = cast(Table, Caregiver.__table__)
_COLUMNS = (
    _outbox.c.id,
    _outbox.c.kind,
    _outbox.c.state,
    _outbox.c.attempts,
    _outbox.c.to_number,
    _outbox.c.sender,
    _outbox.c.body,
    _outbox.c.segments,
    _outbox.c.claimed_at,
    _outbox.c.uncertain_since,
    _outbox.c.due_at,
    _caregivers.c.id.label("caregiver_id"),
    _caregivers.c.status.label("caregiver_status"),
    _caregivers.c.paused_until,
    _caregivers.c.timezone,
    _caregivers.c.region,
)
_CANDIDATES = (
    select(*_COLUMNS)
    .join(_caregivers, _caregivers.c.id == _outbox.c.caregiver_id)
    .with_for_update(skip_locked=True, of=_outbox)
    .limit(bindparam("limit"))
)
_EXPIRED = _CANDIDATES.where(
    _outbox.c.state == "sending", _outbox.c.lease_expires_at <= bindparam("now")
).order_by(_outbox.c.lease_expires_at)
_DUE = _CANDIDATES.where(
    _outbox.c.state == "pending", _outbox.c.due_at <= bindparam("now")
).order_by(_outbox.c.due_at, _outbox.c.id)
_MARK = (
    update(_outbox)
    .where(in_ids(_outbox.c.id, "ids"))
    .values(
        state="sending",
        # A takeover continues the attempt of the claim it takes over (the dispatcher
        # counts it once it asks Twilio in vain or sends again), so dispatchers killed
        # while holding a row do not use up its retries.
        attempts=case(
            (_outbox.c.state == "pending", _outbox.c.attempts + 1),
            else_=_outbox.c.attempts,
        ),
        claimed_at=bindparam("now"),
        lease_expires_at=bindparam("lease_expires_at"),
        # Every send attempt passes a last check of its own (jobs/last_check.py).
        checked_at=None,
        # A dead claim's send may have reached the provider: remember the first such moment
        # until an outcome settles it (a failed reconciliation must not move it forward).
        uncertain_since=case(
            (
                _outbox.c.state == "sending",
                func.coalesce(_outbox.c.uncertain_since, _outbox.c.claimed_at),
            ),
            else_=None,
        ),
    )
)


def claim_batch(
    *, session: Session, now: datetime, limit: int, lease: timedelta
) -> list[ClaimedMessage]:
    """Claim up to `limit` due rows: expired leases first (they are oldest), then pending."""
    connection = session.connection()
    rows: list[Any] = list(connection.execute(_EXPIRED, {"now": now, "limit": limit}))
    if len(rows) < limit:
        rows += connection.execute(_DUE, {"now": now, "limit": limit - len(rows)})
    if not rows:
        return []
    connection.execute(
        _MARK, {"ids": [row.id for row in rows], "now": now, "lease_expires_at": now + lease}
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
