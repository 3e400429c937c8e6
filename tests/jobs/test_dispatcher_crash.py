"""Crash safety: a dispatcher killed mid-send, and two dispatchers at once, never lose or double."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from jobs.dispatcher import Dispatcher
from sms_service.core.db import build_engine, build_sessionmaker, transaction
from sms_service.core.settings import Settings
from sms_service.delivery.transports import TwilioTransport
from tests.fakes.twilio_server import FakeTwilio, Fault
from tests.helpers.settings import make_settings
from tests.jobs.outbox import NOON_NEW_YORK, add_message, add_recipient, dispatch, outbox

ROOT = Path(__file__).resolve().parents[2]
# The real dispatcher in its own process, clock fixed at NOON_NEW_YORK, 5-minute leases.
CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from jobs.dispatcher import Dispatcher
    from sms_service.core.db import build_engine, build_sessionmaker
    from sms_service.delivery.transports import TwilioTransport
    from tests.helpers.settings import make_settings
    from tests.jobs.outbox import NOON_NEW_YORK

    async def main(database_url, fake_url):
        settings = make_settings(database_url, SMS_TIPS_SEND_RATE="1000")
        transport = TwilioTransport(settings, api_base_url=fake_url)
        dispatcher = Dispatcher(
            sessions=build_sessionmaker(build_engine(database_url)),
            transport=transport,
            settings=settings,
            clock=lambda: NOON_NEW_YORK,
        )
        await dispatcher.run(until_idle=True)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, SMS_TIPS_SEND_RATE="1000")


def numbers_sent(fake: FakeTwilio) -> Counter[str]:
    return Counter(message["to"] for message in fake.messages)


def test_dispatcher_killed_between_send_and_commit_loses_nothing_and_sends_once(
    database_url: str, sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        rows = [add_message(session, add_recipient(session)) for _ in range(20)]
        expected = {row.id: row.to_number for row in rows}

    # Twilio creates each message at once but holds every answer, so however slowly a loaded
    # machine spaces the creates, the dispatcher hears back about none before it dies.
    with FakeTwilio() as fake:
        fake.add_fault(Fault(kind="hang", delay=30, after_create=True), times=len(rows))
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, database_url, fake.url],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        killed = threading.Event()

        def kill_after_a_few(message: dict[str, Any]) -> None:
            # Twilio has created these messages; the dispatcher dies before hearing back.
            if len(fake.messages) >= 5 and not killed.is_set():
                os.kill(child.pid, signal.SIGKILL)
                killed.set()

        fake.on_create = kill_after_a_few
        _, errors = child.communicate(timeout=60)
        assert killed.is_set(), errors.decode()
        assert child.returncode == -signal.SIGKILL
        fake.on_create = None
        fake.clear_faults()
        time.sleep(0.5)  # Twilio finishes what it had received (in life the lease gives it minutes)
        created_before = numbers_sent(fake)
        assert len(created_before) >= 5

        after_crash = outbox(sessions)
        assert {row.state for row in after_crash.values()} == {"sending"}  # nothing recorded

        # Another dispatcher starts once the leases have expired.
        second = dispatch(sessions, settings, fake, now=NOON_NEW_YORK + timedelta(minutes=5))

        sent = numbers_sent(fake)
        assert fake.violations == []
    assert second.stats.reconciled == len(created_before)
    assert second.stats.sent == len(expected) - len(created_before)
    assert set(sent) == set(expected.values())
    assert all(count == 1 for count in sent.values()), sent
    final = outbox(sessions)
    sids = {message["to"]: message["sid"] for message in fake.messages}
    for row_id, number in expected.items():
        assert final[row_id].state == "sent"
        assert final[row_id].provider_sid == sids[number]


def test_two_dispatchers_at_once_never_send_a_row_twice(
    database_url: str, sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        numbers = [add_message(session, add_recipient(session)).to_number for _ in range(300)]

    async def both(fake: FakeTwilio) -> list[Dispatcher]:
        dispatchers, transports, engines = [], [], []
        for _ in range(2):
            engine = build_engine(database_url)
            transport = TwilioTransport(settings, api_base_url=fake.url)
            engines.append(engine)
            transports.append(transport)
            dispatchers.append(
                Dispatcher(
                    sessions=build_sessionmaker(engine),
                    transport=transport,
                    settings=settings,
                    batch_size=25,
                    clock=lambda: NOON_NEW_YORK,
                )
            )
        try:
            await asyncio.gather(*(d.run(until_idle=True) for d in dispatchers))
        finally:
            for transport in transports:
                await transport.aclose()
            for engine in engines:
                engine.dispose()
        return dispatchers

    with FakeTwilio(latency=0.02) as fake:
        dispatchers = asyncio.run(both(fake))
        sent = numbers_sent(fake)
        assert fake.violations == []

    assert sorted(sent) == sorted(numbers)
    assert set(sent.values()) == {1}
    assert all(d.stats.claimed > 0 for d in dispatchers)
    assert sum(d.stats.claimed for d in dispatchers) == 300
    assert {row.state for row in outbox(sessions).values()} == {"sent"}
