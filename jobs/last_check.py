"""The last look before a text leaves: is its row still ours to send, and its family still in?

A claim is seconds old when its sender has waited for rate tokens; meanwhile the family may have
texted STOP or PAUSE, been erased, or a carrier may have opted them out. Those transitions
(sms_service.caregivers.lifecycle) cancel claimed rows, so right before the provider call each
sender asks here whether its row is still "sending" under its own claim and whether the
caregiver's current status lets it go. Senders waiting at the same moment share one statement.

The check is a write, so that it serializes with a STOP: one short transaction runs
`UPDATE outbound_message SET checked_at = now WHERE <the row is ours, sending, not yet checked,
and its caregiver's status lets it go> RETURNING id`, and only the rows it returns are sent.
A STOP's `cancel_queued` in turn leaves rows alone once `checked_at` is set (they are on their
way to the provider; the webhook waits for them before it confirms the opt-out).

- PostgreSQL (READ COMMITTED): both statements lock the outbox row. If the STOP's cancel locks
  it first, the check's UPDATE waits for the STOP to commit and then re-evaluates its WHERE on
  the new row version: the row is "cancelled", so it is not returned and not sent. If the check
  locks it first, the STOP's cancel waits for the check to commit, re-evaluates, finds
  `checked_at` set and leaves the row alone: the decision to send was taken before the STOP
  committed. Either way no text is decided after a STOP (or PAUSE, carrier opt-out, deletion:
  its cascade deletes the row under the same lock) is committed.
- SQLite: every write transaction holds the database's one write lock from BEGIN IMMEDIATE to
  COMMIT, so the check runs wholly before or wholly after the STOP.
"""

from __future__ import annotations

import asyncio
import functools
from collections import defaultdict
from datetime import datetime
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    bindparam,
    func,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.dml import ReturningUpdate

from jobs.claims import ClaimedMessage
from sms_service.core.db import transaction
from sms_service.core.id_lists import in_ids
from sms_service.core.models import Caregiver, CaregiverStatus, OutboundMessage

# Long enough to gather the senders of a few milliseconds into one check, short next to the
# provider call that follows (about 50 ms or more).
GATHER_SECONDS = 0.008

_outbox = cast(Table, OutboundMessage.__table__)
_caregivers = cast(Table, Caregiver.__table__)
_WHY_NOT = (
    select(
        _outbox.c.id,
        _outbox.c.state,
        _outbox.c.claimed_at,
        _outbox.c.checked_at,
        _caregivers.c.status,
        _caregivers.c.paused_until,
    )
    .join(_caregivers, _caregivers.c.id == _outbox.c.caregiver_id)
    .where(in_ids(_outbox.c.id, "ids"))
)


class LastCheck:
    """Answers `why_not(claim)` for many senders at once, one short write per batch."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._waiting: dict[int, tuple[ClaimedMessage, asyncio.Future[str | None]]] = {}
        self._running: asyncio.Task[None] | None = None

    async def why_not(self, claim: ClaimedMessage, now: datetime) -> str | None:
        """None when the text may go out now (its row is marked checked), otherwise why not."""
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._waiting[claim.id] = (claim, future)
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._answer(now))
        return await future

    async def _answer(self, now: datetime) -> None:
        # A moment for the senders right behind to join: each check is a transaction (and a
        # thread hop), which costs more than the rows it checks while batches are small.
        await asyncio.sleep(GATHER_SECONDS)
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            try:
                verdicts = await asyncio.to_thread(self._query, [c for c, _ in batch.values()], now)
            except Exception as error:  # the senders treat it like any failed send attempt
                for _claim, future in batch.values():
                    future.set_exception(error)
                continue
            for claim_id, (_claim, future) in batch.items():
                future.set_result(verdicts[claim_id])

    def _query(self, claims: list[ClaimedMessage], now: datetime) -> dict[int, str | None]:
        with transaction(self._sessions) as session:
            connection = session.connection()
            passed = mark_checked(connection, claims, now)
            refused = [claim.id for claim in claims if claim.id not in passed]
            # Why the others did not pass, read in the same transaction as the verdict.
            rows = (
                {row.id: row for row in connection.execute(_WHY_NOT, {"ids": refused})}
                if refused
                else {}
            )
        verdicts: dict[int, str | None] = {}
        for claim in claims:
            row = rows.get(claim.id)
            if claim.id in passed:
                verdicts[claim.id] = None
            elif row is None:
                verdicts[claim.id] = "caregiver's data was deleted"
            elif row.state != "sending" or row.claimed_at != claim.claimed_at:
                verdicts[claim.id] = "cancelled or taken over while waiting to send"
            elif row.checked_at is not None:
                verdicts[claim.id] = "this claim was already checked once"
            else:
                verdicts[claim.id] = (
                    not_subscribed(row.status, row.paused_until, now)
                    or "caregiver's status changed while waiting to send"
                )
        return verdicts


def mark_checked(connection: Connection, claims: list[ClaimedMessage], now: datetime) -> set[int]:
    """The one UPDATE of a batch: mark checked the rows that may go; returns their ids."""
    by_claim: defaultdict[datetime, list[int]] = defaultdict(list)
    for claim in claims:
        by_claim[claim.claimed_at].append(claim.id)
    params: dict[str, object] = {"now": now}
    for n, (claimed_at, ids) in enumerate(by_claim.items()):
        params[f"ids_{n}"], params[f"claimed_at_{n}"] = ids, claimed_at
    return set(connection.scalars(_mark_checked(len(by_claim)), params))


@functools.cache
def _mark_checked(claims: int) -> ReturningUpdate[int]:
    """The check of rows from `claims` claims (usually one), built once per count: building it
    and its cache key anew each time cost the dispatcher more CPU than running it."""
    ours = or_(
        *(
            and_(
                in_ids(_outbox.c.id, f"ids_{n}"),
                _outbox.c.claimed_at == bindparam(f"claimed_at_{n}"),
            )
            for n in range(claims)
        )
    )
    # Correlated: only the batch's own caregivers are read (by primary key), not the table.
    subscribed = (
        select(_caregivers.c.id)
        .where(_caregivers.c.id == _outbox.c.caregiver_id, subscribed_now(bindparam("now")))
        .exists()
    )
    return (
        update(_outbox)
        .where(ours, _SENDING, _outbox.c.checked_at.is_(None), subscribed)
        .values(checked_at=bindparam("now"))
        .returning(_outbox.c.id)
    )


# The row is still "sending", written so that no index can serve it: PostgreSQL then finds the
# batch's rows by primary key. As `state = 'sending'` it took the (state, due_at) index (few
# rows are "sending" in its statistics) and walked every row of every claim in hand, dead
# index entries of the rows sent since included: most of each check's time under load.
_SENDING = func.coalesce(_outbox.c.state, "") == "sending"


def subscribed_now(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """`not_subscribed(...) is None` as SQL on the caregiver table."""
    return and_(
        _caregivers.c.status.not_in([CaregiverStatus.OPTED_OUT, CaregiverStatus.UNDELIVERABLE]),
        not_(
            and_(
                _caregivers.c.status == CaregiverStatus.PAUSED,
                or_(_caregivers.c.paused_until.is_(None), _caregivers.c.paused_until > now),
            )
        ),
    )


def not_subscribed(status: str, paused_until: datetime | None, now: datetime) -> str | None:
    """Why a caregiver in this status must not get a text now, or None."""
    if status == CaregiverStatus.OPTED_OUT:
        return "caregiver opted out after the message was planned"
    if status == CaregiverStatus.UNDELIVERABLE:
        return "caregiver's number is undeliverable"
    if status == CaregiverStatus.PAUSED and (paused_until is None or paused_until > now):
        return "caregiver paused messages"
    return None
