"""PostgreSQL goes down mid-run and comes back: webhooks answer 503 meanwhile, every text Twilio
retries is stored once and answered after, and the dispatcher and scheduler carry on unaided.

The database is a private cluster (tests/reliability/private_postgres.py), down for
scaled(5, 20) seconds; the web app, the dispatcher and the scheduler are `sms-tips` processes.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from jobs.leadership import ADVISORY_KEY
from sms_service.core.db import build_engine, build_sessionmaker
from sms_service.core.models import Caregiver, CaregiverStatus, OutboundMessage, utcnow
from tests.helpers.ci import unavailable
from tests.helpers.settings import service_environ
from tests.helpers.texting import new_sid
from tests.reliability.figures import record
from tests.reliability.invariants import breaches
from tests.reliability.private_postgres import PrivatePostgres, can_run, initdb
from tests.reliability.processes import sms_tips, web_server
from tests.reliability.scale import scaled
from tests.reliability.subscribers import add_subscriber, add_tip
from tests.reliability.traffic import INBOUND_PATH, STATUS_PATH, sign, text_form

OUTAGE_SECONDS = scaled(5, 20)
PARENTS = scaled(20, 60)
ENROLL = ["JOIN", "Maya", "8 months", "1", "thank you"]
RETRY_SECONDS = 0.5  # how soon the "Twilio" here tries a text again after a non-200
RECOVERY_DEADLINE = 60.0


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A migrated database on a cluster of this module's own."""
    problem = can_run()
    if problem is not None:
        unavailable(problem, ci_must="prove the database outage")
    binaries = initdb()
    assert binaries is not None
    cluster = PrivatePostgres(binaries.parent)
    try:
        cluster.start()
        cluster.create_database()
        yield cluster
    finally:
        cluster.remove()


def noon_zone() -> str:
    """A time zone where it is about noon now, so the dispatcher's send window is open."""
    return f"Etc/GMT{utcnow().hour - 12:+d}"


def queue_tips(sessions: sessionmaker[Session], name: str, count: int, *, due_in: float) -> None:
    """`count` subscribers with a tip each (dedupe key `name:n`), due `due_in` seconds from now."""
    due = utcnow() + timedelta(seconds=due_in)
    with sessions.begin() as session:
        first = session.scalar(select(func.count()).select_from(Caregiver)) or 0
        for n in range(count):
            caregiver = add_subscriber(
                session, phone=f"+1907555{first + n:04d}", timezone=noon_zone(), region=None
            )
            add_tip(session, caregiver, key=f"{name}:{n}", due_at=due)


def all_sent(sessions: sessionmaker[Session], name: str, count: int) -> Callable[[], bool]:
    """Whether the dispatcher has sent every tip `queue_tips` queued as `name`."""

    def probe() -> bool:
        with sessions() as session:
            rows = select(func.count()).where(OutboundMessage.dedupe_key.like(f"{name}:%"))
            return session.scalar(rows.where(OutboundMessage.state == "sent")) == count

    return probe


def leading(sessions: sessionmaker[Session]) -> Callable[[], bool]:
    """Whether a scheduler holds the leader's advisory lock (a bigint key shows in pg_locks
    as its high and low 32 bits)."""
    key = ADVISORY_KEY & 0xFFFF_FFFF_FFFF_FFFF
    held = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1"
    ).bindparams(high=key >> 32, low=key & 0xFFFF_FFFF)

    def probe() -> bool:
        with sessions() as session:
            return bool(session.scalar(held))

    return probe


@dataclass
class Twilio:
    """The webhook side of Twilio: posts each text until it gets a 200, as a retry would."""

    client: httpx.AsyncClient
    answers: Counter[tuple[str, int]] = field(default_factory=Counter)
    accepted: set[str] = field(default_factory=set)
    answered_at: list[float] = field(default_factory=list)  # when each 200 came
    transport_errors: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(20261202))

    async def deliver(self, path: str, fields: list[tuple[str, str]], *, until: float) -> bool:
        webhook = sign(path, fields)
        while time.monotonic() < until:
            try:
                response = await self.client.post(
                    path, content=webhook.content, headers=webhook.headers
                )
            except httpx.TransportError:
                self.transport_errors += 1
            else:
                self.answers[path, response.status_code] += 1
                if response.status_code == 200:
                    self.answered_at.append(time.monotonic())
                    if webhook.stored_sid is not None:
                        self.accepted.add(webhook.stored_sid)
                    return True
            await asyncio.sleep(RETRY_SECONDS)
        return False

    async def parent(self, number: str, *, start_after: float, until: float) -> bool:
        await asyncio.sleep(start_after)
        for body in ENROLL:
            if not await self.deliver(
                INBOUND_PATH, text_form(number, body, new_sid()), until=until
            ):
                return False
            await asyncio.sleep(self.rng.uniform(0.1, 0.6))
        return True

    async def reports(self, *, every: float, stop_at: float, until: float) -> None:
        """Delivery reports for a SID no row has (kept as early reports), all along the run."""
        while time.monotonic() < stop_at:
            sid = new_sid()
            fields = [("MessageSid", sid), ("SmsSid", sid), ("MessageStatus", "delivered")]
            await self.deliver(STATUS_PATH, fields, until=until)
            await asyncio.sleep(every)


async def outage(cluster: PrivatePostgres, *, after: float) -> float:
    """Crash the server `after` seconds from now and start it OUTAGE_SECONDS later; returns
    when it was up again, on the monotonic clock."""
    await asyncio.sleep(after)
    await asyncio.to_thread(cluster.crash)
    await asyncio.sleep(OUTAGE_SECONDS)
    await asyncio.to_thread(cluster.start)
    return time.monotonic()


async def run_through_outage(base_url: str, cluster: PrivatePostgres) -> tuple[Twilio, float]:
    """Parents text before, during and after the outage; returns the Twilio side and the
    moment the database was up again."""
    until = time.monotonic() + OUTAGE_SECONDS + RECOVERY_DEADLINE
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        twilio = Twilio(client)
        spread = OUTAGE_SECONDS + 3.0
        crashing = asyncio.create_task(outage(cluster, after=1.0))
        texting = [
            twilio.parent(f"+1212555{n:04d}", start_after=n * spread / PARENTS, until=until)
            for n in range(PARENTS)
        ]
        reporting = twilio.reports(every=0.3, stop_at=time.monotonic() + spread, until=until)
        finished = await asyncio.gather(*texting, reporting)
        up = await crashing
    assert all(done for done in finished[:-1]), "some texts were never answered 200"
    return twilio, up


def wait_for(check: str, probe: Callable[[], bool], *, since: float) -> float:
    """Seconds from `since` until `probe()` is true; fails after RECOVERY_DEADLINE."""
    while not probe():
        assert time.monotonic() - since < RECOVERY_DEADLINE, f"{check} did not recover"
        time.sleep(0.2)
    return round(time.monotonic() - since, 1)


def test_the_service_rides_out_a_database_outage(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    engine = build_engine(private_postgres.url)
    sessions = build_sessionmaker(engine)
    queue_tips(sessions, "before", 1, due_in=0)
    web_env = service_environ(private_postgres.url)
    # The dispatcher sends through the console transport (no Twilio), so nothing leaves.
    jobs_env = {"DATABASE_URL": private_postgres.url, "SMS_TIPS_SCHEDULER_TAKEOVER_SECONDS": "1"}
    with (
        web_server(web_env, cwd=tmp_path) as base_url,
        sms_tips(
            "dispatcher", environ=jobs_env, cwd=tmp_path, log=tmp_path / "dispatcher.log"
        ) as dispatcher,
        sms_tips(
            "scheduler", environ=jobs_env, cwd=tmp_path, log=tmp_path / "scheduler.log"
        ) as scheduler,
    ):
        # Both at work before the outage (at start-up they exit if the database is away).
        wait_for("the dispatcher's start", all_sent(sessions, "before", 1), since=time.monotonic())
        wait_for("the scheduler's start", leading(sessions), since=time.monotonic())
        queued = 5
        # Due once the outage has begun (a second from now): only sendable after it.
        queue_tips(sessions, "outage", queued, due_in=2.0)
        started = time.monotonic()
        twilio, up = asyncio.run(run_through_outage(base_url, private_postgres))
        wall = time.monotonic() - started
        dispatcher_s = wait_for("the dispatcher", all_sent(sessions, "outage", queued), since=up)
        scheduler_s = wait_for("the scheduler", leading(sessions), since=up)
        assert dispatcher.poll() is None and scheduler.poll() is None, "a process died"
    # The scheduler did lose the lock with its connection, and took it again by itself.
    assert "scheduler lost its leadership" in (tmp_path / "scheduler.log").read_text()

    found = breaches(sessions, accepted_sids=twilio.accepted)
    with sessions() as session:
        parents = select(Caregiver.phone).where(Caregiver.phone.like("+1212555%"))
        enrolled = session.scalars(parents.where(Caregiver.status == CaregiverStatus.ACTIVE))
        enrolled_count = len(list(enrolled))
    engine.dispose()
    record(
        "database_outage",
        outage_s=OUTAGE_SECONDS,
        parents=PARENTS,
        texts=PARENTS * len(ENROLL),
        texts_stored=len(twilio.accepted),
        answers={f"{path} {code}": n for (path, code), n in sorted(twilio.answers.items())},
        transport_errors=twilio.transport_errors,
        answering_again_after_s=round(min(t for t in twilio.answered_at if t > up) - up, 2),
        enrolled=enrolled_count,
        # Upper bounds: each is checked once the parents are done, then one after the other.
        dispatcher_sent_within_s=dispatcher_s,
        scheduler_leading_within_s=scheduler_s,
        wall_s=round(wall, 1),
    )
    codes = {code for _, code in twilio.answers}
    assert codes <= {200, 503}, twilio.answers
    assert twilio.answers[INBOUND_PATH, 503] > 0, "no text met the outage"
    assert twilio.answers[STATUS_PATH, 503] > 0, "no delivery report met the outage"
    assert twilio.transport_errors == 0
    assert found == [], found[:20]
    assert enrolled_count == PARENTS
