"""A crash loop: real dispatcher processes SIGKILLed at random moments mid-flight, message lists
failing in some rounds, each restarted past the dead one's leases until every row is final.
Nothing is lost and nothing reaches a family twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from tests.fakes.twilio_server import FakeTwilio, Fault
from tests.jobs.outbox import add_message, add_recipient, outbox
from tests.reliability.scale import scaled
from tests.reliability.sending import (
    ROOT,
    creates,
    duplicates,
    lookups,
    received,
    record_figures,
    seeded,
)

MESSAGES = scaled(300, 5000)
KILLS = scaled(5, 20)
RATE = "50"  # texts a second: a run lasts long enough for kills to land while texts are out
LATENCY = 0.02  # Twilio's answer time: every kill finds creates in flight
ROUND = timedelta(minutes=6)  # the next dispatcher's clock is past the dead one's 5-minute leases
DRAIN = timedelta(minutes=30)  # past any backoff the killed rounds can have left
MAX_DRAINS = 6


def run_round(
    database_url: str, fake: FakeTwilio, offset: timedelta, *, kill_after: int | None, delay: float
) -> bool:
    """Run one dispatcher process at the clock `offset`; SIGKILL it `delay` seconds after its
    `kill_after`-th create (None: let it finish). Whether it was killed."""
    arguments = [database_url, fake.url, str(offset.total_seconds()), RATE]
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.dispatcher_child", *arguments],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    target = fake.stats()["messages"] + (kill_after or 0)
    timers: list[threading.Timer] = []

    def kill_soon(message: dict[str, Any]) -> None:
        # Called in the fake's thread right after a create, before its answer: the kill lands
        # with this answer and the others in flight unheard, or while outcomes are written.
        if kill_after is not None and not timers and fake.stats()["messages"] >= target:
            timers.append(threading.Timer(delay, child.send_signal, (signal.SIGKILL,)))
            timers[0].start()

    fake.on_create = kill_soon
    try:
        _, errors = child.communicate(timeout=600)
    finally:
        fake.on_create = None
        for timer in timers:
            timer.join()
    killed = child.returncode == -signal.SIGKILL
    assert killed or child.returncode == 0, errors.decode()
    # Twilio finishes the creates it had received; in life the lease gives it minutes.
    fake.wait_until_answered()
    return killed


def unsettled(sessions: sessionmaker[Session]) -> int:
    """Rows not yet final."""
    return sum(row.state in ("pending", "sending") for row in outbox(sessions).values())


def test_dispatchers_killed_again_and_again_lose_nothing_and_send_each_text_once(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    seed, rng = seeded("crash loop")
    with transaction(sessions) as session:
        numbers = [add_message(session, add_recipient(session)).to_number for _ in range(MESSAGES)]
    started = time.monotonic()
    # New creates before each kill; they sum to less than MESSAGES, so every round reaches its kill.
    kill_points = [rng.randint(1, MESSAGES // (KILLS + 1)) for _ in range(KILLS)]
    offset = timedelta(0)
    kills = list_fault_rounds = drains = 0

    with FakeTwilio(latency=LATENCY) as fake:
        for kill_after in kill_points:
            if rng.random() < 0.5:
                fake.fail_lists(Fault(status=503, code=20503), times=rng.randint(1, 10))
                list_fault_rounds += 1
            delay = rng.uniform(0.0, 0.05)
            kills += run_round(database_url, fake, offset, kill_after=kill_after, delay=delay)
            offset += ROUND
        while unsettled(sessions):
            assert drains < MAX_DRAINS, "rows still unsettled after the drain rounds"
            run_round(database_url, fake, offset, kill_after=None, delay=0.0)
            offset += DRAIN
            drains += 1
        got, posts, lists = received(fake), creates(fake), lookups(fake)
        sids = {message["to"]: message["sid"] for message in fake.messages}
        assert fake.violations == []

    final = outbox(sessions)
    doubled = duplicates(fake)
    lost = [row.id for row in final.values() if row.state != "sent"]
    record_figures(
        "crash_loop",
        database_url,
        seed,
        messages=MESSAGES,
        kills=kills,
        list_fault_rounds=list_fault_rounds,
        drain_rounds=drains,
        creates=sum(posts.values()),
        lists=sum(lists.values()),
        attempts_max=max(row.attempts for row in final.values()),
        duplicates=doubled,
        lost=len(lost),
        seconds=round(time.monotonic() - started, 1),
    )
    assert kills == KILLS
    assert doubled == 0 and lost == []
    assert set(got) == set(numbers)
    assert all(row.provider_sid == sids[row.to_number] for row in final.values())
