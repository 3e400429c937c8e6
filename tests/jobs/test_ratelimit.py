"""The shared pacer and the dispatcher's rate, counted in SMS segments per second."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.ratelimit import SharedPacer
from sms_service.core.db import transaction
from sms_service.core.models import SendPacer
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.settings import make_settings
from tests.jobs.outbox import add_message, add_recipient, dispatch

START = 1_800_000_000.0  # wall-clock epoch seconds, as the shared row keeps them


class FakeClock:
    """Wall-clock time that only moves when a pacer sleeps."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds

    @property
    def elapsed(self) -> float:
        return self.now - START


def pacer(sessions: sessionmaker[Session], rate: float, clock: FakeClock) -> SharedPacer:
    return SharedPacer(sessions, rate, clock=clock, sleep=clock.sleep)


def spend(pacer: SharedPacer, sizes: list[int]) -> None:
    async def run() -> None:
        for size in sizes:
            await pacer.acquire(size)

    asyncio.run(run())


def test_pacer_spends_segments_at_the_rate(sessions: sessionmaker[Session]) -> None:
    clock = FakeClock()
    tens = pacer(sessions, 10, clock)  # blocks of 1 segment

    spend(tens, [1] * 51)
    assert clock.elapsed == pytest.approx(5.0)

    spend(tens, [2] * 25)  # 50 more segments: 5 more seconds, not 2.5
    assert clock.elapsed == pytest.approx(10.0, abs=0.11)


def test_a_message_larger_than_a_block_still_goes_and_the_rate_holds(
    sessions: sessionmaker[Session],
) -> None:
    clock = FakeClock()
    ones = pacer(sessions, 1, clock)  # 1 segment a second

    spend(ones, [3, 3, 3])
    assert clock.elapsed == pytest.approx(6.0)  # 9 segments: first at 0 s, then 3 s apart


def test_a_text_straddling_two_blocks_costs_its_segments_and_no_more(
    sessions: sessionmaker[Session],
) -> None:
    clock = FakeClock()
    hundreds = pacer(sessions, 100, clock)  # blocks of 10 segments

    spend(hundreds, [3] * 34)  # 102 segments, in blocks of 10: nothing left unused between
    assert clock.elapsed == pytest.approx(0.99)  # the last text goes at 99 segments


def test_pacers_on_one_database_share_the_rate(sessions: sessionmaker[Session]) -> None:
    clock = FakeClock()
    first, second = pacer(sessions, 10, clock), pacer(sessions, 10, clock)

    async def both() -> None:
        for _ in range(25):
            await first.acquire(1)
            await second.acquire(1)

    asyncio.run(both())
    # 50 segments between them at 10 a second, as if one pacer had sent them all.
    assert clock.elapsed == pytest.approx(4.9, abs=0.11)
    with transaction(sessions) as session:
        row = session.scalars(select(SendPacer)).one()
        assert row.sender == "default"
        assert row.next_free_at == pytest.approx(clock.now + 0.1, abs=0.11)


def test_senders_have_rates_of_their_own(sessions: sessionmaker[Session]) -> None:
    clock = FakeClock()
    first = SharedPacer(sessions, 10, sender="MG1", clock=clock, sleep=clock.sleep)
    second = SharedPacer(sessions, 10, sender="MG2", clock=clock, sleep=clock.sleep)

    async def both() -> None:
        for _ in range(10):
            await first.acquire(1)
            await second.acquire(1)

    asyncio.run(both())
    assert clock.elapsed == pytest.approx(0.9)


def test_hold_pauses_every_pacer_on_the_database(sessions: sessionmaker[Session]) -> None:
    clock = FakeClock()
    holding, other = pacer(sessions, 100, clock), pacer(sessions, 100, clock)

    async def run() -> None:
        await holding.acquire(1)
        holding.hold(30)
        await asyncio.sleep(0.2)  # the push runs in a thread; the fake clock stands still
        await other.acquire(1)
        assert clock.elapsed == pytest.approx(30.0, abs=0.02)
        await holding.acquire(1)

    asyncio.run(run())
    # After the other's block: blocks are 0.1 s of sending, here 10 segments.
    assert clock.elapsed == pytest.approx(30.1, abs=0.02)


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
    # 20 segments a second after the first: 1 s for 1-segment texts, 2 s for 2.
    expected = 20 * segments / 20
    assert expected * 0.85 <= span <= expected * 1.3, span
