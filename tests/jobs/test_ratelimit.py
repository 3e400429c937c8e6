"""The token bucket and the dispatcher's rate, counted in SMS segments per second."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.orm import Session, sessionmaker

from jobs.ratelimit import TokenBucket
from sms_service.core.db import transaction
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.settings import make_settings
from tests.jobs.outbox import add_message, add_recipient, dispatch


class FakeClock:
    """Monotonic time that only moves when the bucket sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def spend(bucket: TokenBucket, sizes: list[int]) -> None:
    async def run() -> None:
        for size in sizes:
            await bucket.acquire(size)

    asyncio.run(run())


def test_bucket_spends_segments_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock, sleep=clock.sleep)  # capacity 1 segment

    spend(bucket, [1] * 51)
    assert clock.now == pytest.approx(5.0)

    spend(bucket, [2] * 25)  # 50 more segments: 5 more seconds, not 2.5
    assert clock.now == pytest.approx(10.0, abs=0.11)


def test_a_message_larger_than_the_bucket_still_goes_and_the_rate_holds() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1, clock=clock, sleep=clock.sleep)  # 1 segment a second

    spend(bucket, [3, 3, 3])
    assert clock.now == pytest.approx(6.0)  # 9 segments: first at 0 s, then 3 s apart


def test_hold_pauses_everything() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, clock=clock, sleep=clock.sleep)
    bucket.hold(30)

    spend(bucket, [1])
    assert clock.now == pytest.approx(30.0)


@pytest.mark.parametrize("segments", [1, 2])
def test_dispatcher_rate_is_counted_in_segments(
    database_url: str, sessions: sessionmaker[Session], fake_twilio: FakeTwilio, segments: int
) -> None:
    settings = make_settings(database_url, SMS_TIPS_SEND_RATE="20")
    with transaction(sessions) as session:
        for _ in range(21):
            add_message(session, add_recipient(session), segments=segments)

    dispatch(sessions, settings, fake_twilio)

    times = sorted(r.at for r in fake_twilio.requests if r.method == "POST")
    assert len(times) == 21
    span = (times[-1] - times[0]).total_seconds()
    # 20 segments a second after the first (capacity 2): 1 s for 1-segment texts, 2 s for 2.
    expected = 20 * segments / 20
    assert expected * 0.85 <= span <= expected * 1.3, span
