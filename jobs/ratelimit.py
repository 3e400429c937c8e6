"""An asyncio token bucket: the dispatcher's sending rate, counted in SMS segments per second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class TokenBucket:
    """`rate` tokens a second, at most `capacity` saved up; waiters are served in order.

    A request larger than the capacity (a 2-segment text on a 1-segment-per-second bucket) is
    let through once the bucket is full and leaves it in debt, so the long-run rate still holds.
    """

    def __init__(
        self,
        rate: float,
        *,
        capacity: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        # A tenth of a second's worth (at least one segment) keeps bursts small: carriers
        # measure MPS over short windows.
        self.capacity = capacity if capacity is not None else max(1.0, rate / 10)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._updated = clock()
        self._not_before = 0.0
        self._lock = asyncio.Lock()

    def hold(self, seconds: float) -> None:
        """Hand out nothing for `seconds` (the provider asked us to slow down)."""
        self._not_before = max(self._not_before, self._clock() + seconds)

    async def acquire(self, tokens: float) -> None:
        """Wait until `tokens` may be spent, then spend them."""
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._not_before:
                    await self._sleep(self._not_before - now)
                    continue
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                needed = min(tokens, self.capacity)
                # The tolerance stops float rounding (0.99999...) from sleeping forever in
                # ever smaller steps.
                if self._tokens >= needed - 1e-9:
                    self._tokens -= tokens
                    return
                await self._sleep((needed - self._tokens) / self.rate)
