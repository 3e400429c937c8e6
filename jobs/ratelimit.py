"""The sending rate, counted in SMS segments per second and shared by every dispatcher.

Carriers count throughput per sender, so SMS_TIPS_SEND_RATE holds across every dispatcher on
the database (`sms-tips serve` and any number of `sms-tips dispatcher`), not per process. The
schedule is GCRA ("virtual scheduling") on one row per sender in `send_pacer`: `next_free_at`
is the moment the sender's next segment may go. A pacer reserves a block of sending time with
one atomic statement,

    next_free_at = max(next_free_at, now) + units / rate  ... RETURNING next_free_at

(an upsert on both databases: PostgreSQL locks the row, SQLite runs it under its write lock),
and owns [returned - units / rate, returned), disjoint from every other dispatcher's blocks.
Inside its blocks it hands segments to its senders at the rate, so there is one database round
trip per block (about BLOCK_SECONDS of sending), not per text; the next block is reserved in
the background before the current one runs out. Reserved time that passes unused is lost (a
cap, not a quota), so a dispatcher that stops wastes at most a block or two. A text larger
than what is left goes at its first segment's moment and leaves the pacer in debt (a 2-segment
text on a 1-segment-per-second rate goes, and the next waits 2 s), so the long-run rate holds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core import metrics
from sms_service.core.db import transaction
from sms_service.core.models import SendPacer
from sms_service.core.settings import Settings

logger = logging.getLogger(__name__)

# A block is about this much sending: small enough that carriers' short MPS windows see no
# burst and an unused block costs little, large enough that reserving is rare.
BLOCK_SECONDS = 0.1
# How long to wait before trying again when the database cannot be reached.
RETRY_SECONDS = 1.0
# Float rounding (0.99999... of a segment) must not cost a reservation.
_EPSILON = 1e-6


class SharedPacer:
    """`rate` segments a second for `sender`, across every pacer on the database.

    Times are wall-clock epoch seconds (time.time()): the shared row is compared by processes,
    possibly on several hosts, that share no monotonic clock. Their clocks must agree (NTP);
    a skew of d seconds can let up to rate * d extra segments through once.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        rate: float,
        *,
        sender: str = "default",
        block_seconds: float = BLOCK_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.sender = sender
        self._sessions = sessions
        self._block_units = rate * block_seconds
        self._block_seconds = block_seconds
        self._clock = clock
        self._sleep = sleep
        # The unused rest of each reserved block: [next free moment, end], oldest first.
        self._blocks: deque[list[float]] = deque()
        self._horizon = 0.0  # the end of the last block reserved
        self._refill: asyncio.Task[list[float]] | None = None
        self._refill_holds = 0
        self._not_before = 0.0
        self._holds = 0  # counts hold() calls: slots and blocks from before a hold are void
        self._pushes: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    @classmethod
    def for_settings(cls, sessions: sessionmaker[Session], settings: Settings) -> SharedPacer:
        """The pacer of the configured sender (messaging service or number) at its rate."""
        sender = settings.twilio_messaging_service_sid or settings.twilio_from_number
        return cls(sessions, settings.send_rate, sender=sender or "default")

    def hold(self, seconds: float) -> None:
        """Send nothing for `seconds`, here at once and in every other dispatcher as soon as
        the shared row is pushed forward (the provider asked us to slow down). Call it from
        the event loop."""
        until = self._clock() + seconds
        if until <= self._not_before:
            return
        self._not_before = until
        self._holds += 1
        metrics.RATELIMIT_HOLDS.inc()
        self._blocks.clear()
        self._horizon = 0.0
        task = asyncio.get_running_loop().create_task(self._push_hold(until))
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)

    async def acquire(self, segments: float) -> None:
        """Wait until `segments` may be sent, and count them as sent."""
        if segments <= 0:
            return
        began = self._clock()
        while True:
            holds = self._holds
            async with self._lock:
                start = await self._take(segments)
            delay = start - self._clock()
            if delay > 0:
                await self._sleep(delay)
            if self._holds == holds:
                waited = self._clock() - began
                if waited > 0:
                    metrics.RATELIMIT_WAITS.inc()
                    metrics.RATELIMIT_WAIT_SECONDS.inc(waited)
                return
            # A hold came while this sender waited: its moment is void, take a new one.

    async def _take(self, segments: float) -> float:
        """Take `segments` from the reserved blocks (reserving more as needed); when the first
        of them may go."""
        need = float(segments)
        first: float | None = None
        while need > _EPSILON:
            now = self._clock()
            if now < self._not_before:
                await self._sleep(self._not_before - now)
                continue
            if not self._blocks:
                await self._refilled(need, started=first is not None)
                continue
            block = self._blocks[0]
            moment = max(block[0], now)
            available = (block[1] - moment) * self.rate
            if available <= _EPSILON:
                self._blocks.popleft()
                continue
            if first is None:
                first = moment
            taken = need if available >= need - _EPSILON else available
            need -= taken
            block[0] = moment + taken / self.rate
            if block[1] - block[0] < _EPSILON / self.rate:
                self._blocks.popleft()
        if self._horizon - self._clock() < self._block_seconds:
            self._start_refill(0.0)  # the next block, before this one runs out
        assert first is not None
        return first

    async def _refilled(self, need: float, *, started: bool) -> None:
        """Wait for the next block (reserving it if nobody has yet) and add it."""
        if self._refill is None:
            # Reserve no further ahead than about a block past what is already reserved here:
            # a hold elsewhere then reaches this dispatcher within a block or two. A text that
            # has its first segment (`started`) does not wait: it goes at that moment.
            wait = self._horizon - self._block_seconds - self._clock()
            if wait > 0 and not started:
                await self._sleep(wait)
                return
            self._start_refill(need)
        assert self._refill is not None
        refill, holds = self._refill, self._refill_holds
        # Shielded: a cancelled sender must not cancel the reservation the others wait for.
        block = await asyncio.shield(refill)
        if self._refill is refill:
            self._refill = None
        if holds == self._holds:
            self._blocks.append(block)

    def _start_refill(self, need: float) -> None:
        if self._refill is None:
            self._refill = asyncio.get_running_loop().create_task(self._reserve(need))
            self._refill_holds = self._holds

    async def _reserve(self, need: float) -> list[float]:
        """Reserve a block of at least `need` segments; [its start, its end]."""
        units = max(self._block_units, need)
        cost = units / self.rate
        while True:
            try:
                end = await asyncio.to_thread(self._push, None, cost)
            except SQLAlchemyError:  # the database is away: send nothing until it is back
                logger.exception("reserving sending time failed; trying again")
                await self._sleep(RETRY_SECONDS)
                continue
            self._horizon = max(self._horizon, end)
            return [end - cost, end]

    async def _push_hold(self, until: float) -> None:
        try:
            await asyncio.to_thread(self._push, until, 0.0)
        except SQLAlchemyError:  # this dispatcher still holds; the others may not know
            logger.exception("sharing a hold until %s failed", until)

    def _push(self, earliest: float | None, cost: float) -> float:
        """next_free_at = max(next_free_at, earliest) + cost, atomically; the new value.

        `earliest` None: now, read once the transaction has begun (on SQLite, once it has the
        write lock), so a slow start costs no sending time at the front of the block.
        """
        with transaction(self._sessions) as session:
            session.connection()  # begins
            if earliest is None:
                earliest = self._clock()
            values = {"sender": self.sender, "next_free_at": earliest + cost}
            if session.get_bind().dialect.name == "postgresql":
                on_postgres = postgresql.insert(SendPacer).values(values)
                statement = on_postgres.on_conflict_do_update(
                    index_elements=[SendPacer.sender],
                    set_={"next_free_at": func.greatest(SendPacer.next_free_at, earliest) + cost},
                ).returning(SendPacer.next_free_at)
            else:
                on_sqlite = sqlite.insert(SendPacer).values(values)
                statement = on_sqlite.on_conflict_do_update(
                    index_elements=[SendPacer.sender],
                    set_={"next_free_at": func.max(SendPacer.next_free_at, earliest) + cost},
                ).returning(SendPacer.next_free_at)
            return session.execute(statement).scalar_one()
