"""The send rate is shared: three dispatcher processes on one database send at SMS_TIPS_SEND_RATE
between them, not three times it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from tests.fakes.twilio_server import FakeTwilio
from tests.jobs.outbox import add_message, add_recipient, outbox

ROOT = Path(__file__).resolve().parents[2]
RATE = 20  # segments a second, for all the dispatchers together
TEXTS = 300  # one segment each: about 15 s of sending
PROCESSES = 3
# The real dispatcher in its own process, clock fixed at NOON_NEW_YORK: it says "ready" once
# built, starts on a line on stdin (so all three send at once), and prints how many it sent.
CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from jobs.dispatcher import Dispatcher
    from sms_service.core.db import build_engine, build_sessionmaker
    from sms_service.delivery.transports import TwilioTransport
    from tests.helpers.settings import make_settings
    from tests.jobs.outbox import NOON_NEW_YORK

    async def main(database_url, fake_url, rate):
        settings = make_settings(database_url, SMS_TIPS_SEND_RATE=rate)
        transport = TwilioTransport(settings, api_base_url=fake_url)
        dispatcher = Dispatcher(
            sessions=build_sessionmaker(build_engine(database_url)),
            transport=transport,
            settings=settings,
            clock=lambda: NOON_NEW_YORK,
        )
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        try:
            await dispatcher.run(until_idle=True)
        finally:
            await transport.aclose()
        print("sent", dispatcher.stats.sent, flush=True)

    asyncio.run(main(*sys.argv[1:4]))
    """
)


def test_three_dispatcher_processes_share_the_rate_and_send_each_text_once(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        numbers = [add_message(session, add_recipient(session)).to_number for _ in range(TEXTS)]

    with FakeTwilio(latency=0.05) as fake:
        children = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD, database_url, fake.url, str(RATE)],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(PROCESSES)
        ]
        try:
            for child in children:
                assert child.stdout is not None
                assert child.stdout.readline().strip() == "ready", child.stderr
            outputs = []
            for child in children:
                assert child.stdin is not None
                child.stdin.write("go\n")
                child.stdin.flush()
            for child in children:
                out, errors = child.communicate(timeout=90)
                assert child.returncode == 0, errors
                outputs.append(out)
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                    child.wait()
        creates = sorted(r.at for r in fake.requests if r.method == "POST" and r.status == 201)
        sent = Counter(message["to"] for message in fake.messages)
        assert fake.violations == []

    # Every text once, and every process took a share of them.
    assert sorted(sent) == sorted(numbers)
    assert set(sent.values()) == {1}
    assert {row.state for row in outbox(sessions).values()} == {"sent"}
    per_process = [int(out.split()[-1]) for out in outputs]
    assert sum(per_process) == TEXTS
    assert all(count > 0 for count in per_process), per_process

    # The rate at the fake over the steady middle of the run (starts and ends trimmed).
    window_start = creates[0] + timedelta(seconds=2)
    window_end = creates[-1] - timedelta(seconds=2)
    in_window = [at for at in creates if window_start <= at < window_end]
    rate = len(in_window) / (window_end - window_start).total_seconds()
    print(f"{rate:.2f} creates/s in the steady window, over all {PROCESSES} processes")
    assert RATE * 0.95 <= rate <= RATE * 1.05, rate
    # And over the whole run: never faster than the cap allows (first text at 0 s).
    overall = (len(creates) - 1) / (creates[-1] - creates[0]).total_seconds()
    assert overall <= RATE * 1.05, overall
