"""The last look before a text leaves: is its row still ours to send, and its family still in?

A claim is seconds old when its sender has waited for rate tokens; meanwhile the family may have
texted STOP or PAUSE, been erased, or a carrier may have opted them out. Those transitions
(sms_service.caregivers.lifecycle) cancel claimed rows, so right before the provider call each
sender asks here whether its row is still "sending" under its own claim and whether the
caregiver's current status lets it go. Senders waiting at the same moment share one query.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.claims import ClaimedMessage
from sms_service.core.db import read_transaction
from sms_service.core.models import Caregiver, CaregiverStatus, OutboundMessage


class LastCheck:
    """Answers `why_not(claim)` for many senders at once, one database query per batch."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._waiting: dict[int, tuple[ClaimedMessage, asyncio.Future[str | None]]] = {}
        self._running: asyncio.Task[None] | None = None

    async def why_not(self, claim: ClaimedMessage, now: datetime) -> str | None:
        """None when the text may go out now, otherwise why it must not."""
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._waiting[claim.id] = (claim, future)
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._answer(now))
        return await future

    async def _answer(self, now: datetime) -> None:
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
        with read_transaction(self._sessions) as session:
            rows = {
                row.id: row
                for row in session.execute(
                    select(
                        OutboundMessage.id,
                        OutboundMessage.state,
                        OutboundMessage.claimed_at,
                        Caregiver.status,
                        Caregiver.paused_until,
                    )
                    .join(Caregiver, Caregiver.id == OutboundMessage.caregiver_id)
                    .where(OutboundMessage.id.in_([claim.id for claim in claims]))
                )
            }
        verdicts: dict[int, str | None] = {}
        for claim in claims:
            row = rows.get(claim.id)
            if row is None:
                verdicts[claim.id] = "caregiver's data was deleted"
            elif row.state != "sending" or row.claimed_at != claim.claimed_at:
                verdicts[claim.id] = "cancelled or taken over while waiting to send"
            else:
                verdicts[claim.id] = not_subscribed(row.status, row.paused_until, now)
        return verdicts


def not_subscribed(status: str, paused_until: datetime | None, now: datetime) -> str | None:
    """Why a caregiver in this status must not get a text now, or None."""
    if status == CaregiverStatus.OPTED_OUT:
        return "caregiver opted out after the message was planned"
    if status == CaregiverStatus.UNDELIVERABLE:
        return "caregiver's number is undeliverable"
    if status == CaregiverStatus.PAUSED and (paused_until is None or paused_until > now):
        return "caregiver paused messages"
    return None
