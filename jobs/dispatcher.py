"""The outbox dispatcher: claim due texts, check consent and the clock, send at a segment rate.

One asyncio loop runs a producer (claims batches in a worker thread, never more than about
CLAIM_AHEAD_SECONDS of sending at once), senders (each: reconcile if needed, check the
caregiver, take segment tokens, then the last check right before the provider call: the send
window and, in jobs.last_check, the row and the caregiver as they are now) and a writer that
records outcomes in batches. Database work runs in threads so the event loop keeps every
connection to Twilio busy. At most `SMS_TIPS_DISPATCH_CONCURRENCY` provider requests are in
flight (Twilio limits an account's concurrent requests); there are PREPARING_SHARE more
senders than that, so that while every request is out, the next texts take their tokens and
pass their last check, and a request that ends is followed by the next at once.

Crash safety. A row is "sending" from its claim until its outcome is written. If the process
dies in between, the row keeps that state until its lease expires; the next claim takes it
over with `previous_claim` set, and before any resend the transport is asked whether a message
with this body went to this number since that claim (Twilio: messages.list by To and
DateSent): found means it was sent (the SID is stored), not found means send again. Ambiguous
failures (timeouts, dropped connections, 5xx) take the same path.

The window no SMS API can close: Twilio's create call is not idempotent (it takes no
idempotency key). If a dispatcher dies after Twilio accepted a message but before Twilio's
records show it to a list query, or a list query is wrong for any reason, reconciliation sees
nothing and the text goes out twice. Conversely nothing is ever lost: a row is only left alone
once a SID (or a definite refusal) is recorded. We accept "at least once, almost always
exactly once" for a weekly tip; the lease (SMS_TIPS_DISPATCH_LEASE_SECONDS, 5 minutes by
default) makes the gap wide enough for Twilio's records to catch up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from jobs.claims import ClaimedMessage, claim_batch
from jobs.last_check import LastCheck, not_subscribed
from jobs.outcomes import CaregiverChange, SendOutcome, record_outcomes
from jobs.ratelimit import SharedPacer
from sms_service.core import metrics
from sms_service.core.db import build_engine, build_sessionmaker, transaction
from sms_service.core.errors import PermanentSend, RetryableSend
from sms_service.core.models import utcnow
from sms_service.core.phones import mask
from sms_service.core.settings import STATUS_PATH, Settings
from sms_service.delivery.sendwindow import is_sendable_now, next_send_time
from sms_service.delivery.transports import build_transport
from sms_service.delivery.transports.base import (
    RecipientUnsubscribed,
    Transport,
    UndeliverableNumber,
)
from sms_service.delivery.transports.twilio import AmbiguousSend

logger = logging.getLogger(__name__)

# Senders beyond the requests in flight, as a share of them: enough to cover a text's
# preparation (rate tokens and the last check, about a fifth of a 50 ms provider call).
PREPARING_SHARE = 0.5
# How far ahead of the rate limit to claim: enough to keep every connection busy, little
# enough that the consent check at claim time is seconds old when the text goes out.
CLAIM_AHEAD_SECONDS = 2.0


@dataclass
class DispatchStats:
    """Counts of one dispatcher run, by outcome."""

    claimed: int = 0
    sent: int = 0
    reconciled: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0
    opted_out: int = 0
    undeliverable: int = 0
    segments_sent: int = 0


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; Retry-After wins when it asks for longer."""

    max_attempts: int = 6
    base_seconds: float = 30.0
    max_seconds: float = 3600.0

    def delay(self, attempts: int, retry_after: float | None, rng: random.Random) -> float:
        backoff = min(self.max_seconds, self.base_seconds * 2.0 ** max(attempts - 1, 0))
        return max(retry_after or 0.0, backoff * rng.uniform(0.5, 1.5))


class Dispatcher:
    """Sends the due outbox through a transport; see the module docstring."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        transport: Transport,
        settings: Settings,
        batch_size: int = 500,
        lease: timedelta | None = None,
        retry: RetryPolicy | None = None,
        poll_seconds: float = 1.0,
        flush_seconds: float = 0.1,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._transport = transport
        self._settings = settings
        self._concurrency = settings.dispatch_concurrency
        self._in_flight = asyncio.Semaphore(self._concurrency)
        self._limit = max(1, min(batch_size, int(settings.send_rate * CLAIM_AHEAD_SECONDS)))
        self._lease = lease or timedelta(seconds=settings.dispatch_lease_seconds)
        self._retry = retry or RetryPolicy()
        self._poll = poll_seconds
        self._flush_every = flush_seconds
        self._clock = clock
        self._rng = rng or random.Random()
        self._pacer = SharedPacer.for_settings(sessions, settings)
        self._last_check = LastCheck(sessions)
        self._status_callback = settings.url_for(STATUS_PATH)
        self.stats = DispatchStats()
        # When each claim in hand was taken (monotonic), for the send latency metric.
        self._claimed_at: dict[int, float] = {}

    # -- the loop ---------------------------------------------------------------------------

    async def run(self, *, stop: asyncio.Event | None = None, until_idle: bool = False) -> None:
        """Dispatch until `stop` is set, or (until_idle) until nothing due is left to claim."""
        stop = stop or asyncio.Event()
        queue: asyncio.Queue[ClaimedMessage | None] = asyncio.Queue()
        results: list[tuple[ClaimedMessage, SendOutcome]] = []
        hungry = asyncio.Event()
        busy = [0]  # senders holding a claim, and writer batches not yet committed
        # Claims taken whose outcome is not yet written: rows this dispatcher holds "sending".
        open_claims = [0]

        def settle(count: int) -> None:
            open_claims[0] -= count
            if open_claims[0] < self._limit:
                hungry.set()

        async def sender() -> None:
            while (claim := await queue.get()) is not None:
                busy[0] += 1
                try:
                    results.append(await self._process(claim))
                except Exception:  # a bug must not kill the loop; the lease brings it back
                    logger.exception("dispatching outbox row %s failed", claim.id)
                    settle(1)
                finally:
                    busy[0] -= 1

        async def writer() -> None:
            while not writer_done.is_set() or results:
                await _wait(writer_done, self._flush_every)
                if results:
                    batch = results[:]
                    del results[: len(batch)]
                    busy[0] += 1
                    try:
                        await asyncio.to_thread(self._record, batch)
                    except Exception:  # the rows stay "sending"; their leases bring them back
                        logger.exception("recording %s outcomes failed", len(batch))
                    finally:
                        busy[0] -= 1
                        settle(len(batch))

        writer_done = asyncio.Event()
        count = self._concurrency + math.ceil(self._concurrency * PREPARING_SHARE)
        senders = [asyncio.create_task(sender()) for _ in range(count)]
        writing = asyncio.create_task(writer())
        settled = False  # until_idle: an empty claim after every outcome was written
        try:
            while not stop.is_set():
                # Claims stay few (about CLAIM_AHEAD_SECONDS of sending): a claim is a promise
                # to send soon, and the fewer there are, the less a late STOP has to undo.
                room = self._limit - open_claims[0]
                # ...and are taken a quarter of the limit or more at a time while others are in
                # hand: each claim is a transaction whose cost hardly depends on its size.
                if room <= 0 or (open_claims[0] and room < self._limit // 4):
                    hungry.clear()
                    await _wait(hungry, self._poll)
                    continue
                try:
                    claims = await asyncio.to_thread(self._claim, room)
                    open_claims[0] += len(claims)
                except SQLAlchemyError:  # the database is away: keep going, try again soon
                    logger.exception("claiming due texts failed")
                    await _wait(stop, self._poll)
                    continue
                for claim in claims:
                    queue.put_nowait(claim)
                if claims:
                    settled = False
                    continue
                if until_idle and queue.empty():
                    if settled:
                        break
                    while results or busy[0]:
                        await asyncio.sleep(self._flush_every / 4)
                    settled = True  # claim once more: retries may already be due
                    continue
                await _wait(stop, self._poll)
        finally:
            for _ in senders:
                queue.put_nowait(None)
            await asyncio.gather(*senders, return_exceptions=True)
            writer_done.set()
            await writing

    def _claim(self, limit: int) -> list[ClaimedMessage]:
        with transaction(self._sessions) as session:
            claims = claim_batch(session=session, now=self._clock(), limit=limit, lease=self._lease)
        self.stats.claimed += len(claims)
        taken = time.monotonic()
        for claim in claims:
            self._claimed_at[claim.id] = taken
        return claims

    def _record(self, batch: list[tuple[ClaimedMessage, SendOutcome]]) -> None:
        now = self._clock()
        with transaction(self._sessions) as session:
            record_outcomes(session=session, results=batch, now=now)

    # -- one message ------------------------------------------------------------------------

    async def _process(self, claim: ClaimedMessage) -> tuple[ClaimedMessage, SendOutcome]:
        """The claim as it is to be recorded (a takeover may count an attempt) and its outcome."""
        try:
            return await self._decide(claim)
        finally:
            self._claimed_at.pop(claim.id, None)

    async def _decide(self, claim: ClaimedMessage) -> tuple[ClaimedMessage, SendOutcome]:
        if claim.previous_claim is not None:
            # A takeover becomes an attempt of its own when Twilio cannot be asked (it uses up
            # retries like any failed send) or says the text never came (it is sent again).
            counted = replace(claim, attempts=claim.attempts + 1)
            try:
                found = await self._reconcile(claim)
            except (RetryableSend, PermanentSend) as error:
                # Not knowing whether it went out, sending again could double it: ask later.
                logger.warning("cannot reconcile outbox row %s yet: %s", claim.id, error)
                return counted, self._retry_later(
                    counted, AmbiguousSend(str(error), code=error.code)
                )
            if found is not None:
                return claim, found
            claim = counted
        return claim, await self._attempt(claim)

    async def _attempt(self, claim: ClaimedMessage) -> SendOutcome:
        now = self._clock()
        reason = not_subscribed(claim.caregiver_status, claim.paused_until, now)
        if reason is not None:
            self.stats.cancelled += 1
            return SendOutcome(state="cancelled", error_message=reason)
        if not is_sendable_now(now, claim.timezone, claim.region, self._settings):
            self.stats.deferred += 1
            return SendOutcome(
                state="pending",
                due_at=self._next_window(claim, now),
                attempts=claim.attempts - 1,
            )
        await self._pacer.acquire(claim.segments)
        now = self._clock()
        if now >= claim.claimed_at + self._lease * 0.8:
            # Waited so long for the rate limit that another dispatcher may take the row over
            # soon: hand it back instead of racing it.
            return SendOutcome(state="pending", attempts=claim.attempts - 1)
        # The last look, after the wait for tokens and right before the provider call.
        if not is_sendable_now(now, claim.timezone, claim.region, self._settings):
            self.stats.deferred += 1
            return SendOutcome(
                state="pending", due_at=self._next_window(claim, now), attempts=claim.attempts - 1
            )
        reason = await self._last_check.why_not(claim, now)
        if reason is not None:
            self.stats.cancelled += 1
            return SendOutcome(state="cancelled", error_message=reason)
        try:
            # A checked text may wait here for a request to end (one provider call at most): a
            # STOP that came meanwhile waits for it (web.sms_inbound.wait_for_texts_on_their_way).
            async with self._in_flight:
                result = await self._transport.send(
                    to=claim.to_number,
                    body=claim.body,
                    status_callback=self._status_callback,
                    sender=claim.sender,  # a partner's own number or service (partners branch)
                )
        except RetryableSend as error:
            return self._retry_later(claim, error)
        except PermanentSend as error:
            return self._refused(claim, error)
        self.stats.sent += 1
        self.stats.segments_sent += claim.segments
        metrics.TEXTS_SENT.labels(kind=claim.kind).inc()
        claimed = self._claimed_at.get(claim.id)
        if claimed is not None:
            metrics.SEND_LATENCY.observe(time.monotonic() - claimed)
        return SendOutcome(state="sent", provider_sid=result.sid, sent_at=self._clock())

    async def _reconcile(self, claim: ClaimedMessage) -> SendOutcome | None:
        assert claim.previous_claim is not None
        async with self._in_flight:
            sid = await self._transport.find_sent(
                to=claim.to_number, body=claim.body, since=claim.previous_claim
            )
        if sid is None:
            logger.info("outbox row %s was not sent before its lease expired: sending", claim.id)
            return None
        logger.info("outbox row %s had been sent before its lease expired (%s)", claim.id, sid)
        self.stats.reconciled += 1
        return SendOutcome(state="sent", provider_sid=sid, sent_at=self._clock())

    def _retry_later(self, claim: ClaimedMessage, error: RetryableSend) -> SendOutcome:
        code = str(error.code) if error.code is not None else None
        metrics.TWILIO_ERRORS.labels(code=metrics.error_code_label(code)).inc()
        if claim.attempts >= self._retry.max_attempts:
            self.stats.failed += 1
            return SendOutcome(
                state="failed",
                error_code=code,
                error_message=f"gave up after {claim.attempts} attempts: {error}",
            )
        if error.retry_after:
            # Everyone slows down, but briefly: claimed rows must go out well within their lease.
            self._pacer.hold(min(error.retry_after, self._lease.total_seconds() / 10))
        now = self._clock()
        delay = self._retry.delay(claim.attempts, error.retry_after, self._rng)
        due = self._next_window(claim, now + timedelta(seconds=delay))
        self.stats.retried += 1
        if isinstance(error, AmbiguousSend):
            # Twilio may have it: keep the row "sending" so the retry reconciles first.
            return SendOutcome(
                state="sending", lease_expires_at=due, error_code=code, error_message=str(error)
            )
        return SendOutcome(state="pending", due_at=due, error_code=code, error_message=str(error))

    def _refused(self, claim: ClaimedMessage, error: PermanentSend) -> SendOutcome:
        code = str(error.code) if error.code is not None else None
        metrics.TWILIO_ERRORS.labels(code=metrics.error_code_label(code)).inc()
        if isinstance(error, RecipientUnsubscribed):
            self.stats.opted_out += 1
            logger.info("%s has unsubscribed at the carrier: opting out", mask(claim.to_number))
            change: CaregiverChange | None = "opted_out"
        elif isinstance(error, UndeliverableNumber):
            self.stats.undeliverable += 1
            logger.info("%s cannot receive texts (%s)", mask(claim.to_number), code)
            change = "undeliverable"
        else:
            self.stats.failed += 1
            change = None
        return SendOutcome(
            state="failed",
            error_code=code,
            error_message=str(error),
            caregiver_change=change,
        )

    def _next_window(self, claim: ClaimedMessage, moment: datetime) -> datetime:
        local = moment.astimezone(ZoneInfo(claim.timezone))
        return next_send_time(local, claim.region, self._settings).astimezone(UTC)


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


class DispatcherService:
    """The dispatcher as a background service of `sms-tips serve` (context.BackgroundService)."""

    name = "dispatcher"

    def __init__(self, settings: Settings, *, transport: Transport | None = None) -> None:
        self._settings = settings
        self._transport = transport
        self._engine: Engine | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect and start dispatching in the running event loop."""
        self._engine = build_engine(self._settings.database_url)
        if self._transport is None:
            self._transport = build_transport(self._settings)
        dispatcher = Dispatcher(
            sessions=build_sessionmaker(self._engine),
            transport=self._transport,
            settings=self._settings,
        )
        self._stop.clear()
        self._task = asyncio.create_task(dispatcher.run(stop=self._stop), name="dispatcher")

    async def stop(self) -> None:
        """Finish the texts in flight, record them, and disconnect."""
        self._stop.set()
        if self._task is not None:
            await self._task
        if self._transport is not None:
            await self._transport.aclose()
        if self._engine is not None:
            self._engine.dispose()
