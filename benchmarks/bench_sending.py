"""Sending benchmark: the dispatcher end to end against a fake Twilio with 50 ms latency.

    .venv/bin/python -m benchmarks.bench_sending            # SQLite and PostgreSQL
    .venv/bin/python -m benchmarks.bench_sending --messages 5000 --backends sqlite

For each database: fill the outbox with N due texts, then run the real Dispatcher (claim in
batches, send through TwilioTransport over aiohttp, record SID and state) until nothing is
due, and report messages per second. In the same run, a sequential loop of
twilio.rest.Client.messages.create against the same fake gives the baseline ratio. Finally the
dispatcher runs with a cap of 100 segments/s for 30 s (a mix of 1- and 2-segment texts) and
the fake counts the segments it received in that window.

The fake runs in its own process (as Twilio would be another machine), answering after 50 ms.
PostgreSQL: a scratch database on $SMS_TIPS_TEST_POSTGRES (default the local test server).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from twilio.rest import Client

from jobs.dispatcher import Dispatcher
from sms_service.caregivers.partnership import DEFAULT_PARTNER_SLUG
from sms_service.core import eventloop
from sms_service.core.db import build_engine, build_sessionmaker, upgrade
from sms_service.core.models import Caregiver, OutboundMessage, Partner
from sms_service.core.settings import Settings
from sms_service.delivery.transports import TwilioTransport
from tests.helpers.settings import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_MESSAGING_SERVICE_SID,
    make_settings,
)

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_SERVER = os.environ.get(
    "SMS_TIPS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
LATENCY = 0.05
ONE_SEGMENT = "Little Moments: {n} Sing the song you love while you change your baby. It counts."
TWO_SEGMENTS = (
    ONE_SEGMENT
    + " "
    + (
        "Your voice is the sound your baby knows best, and a song turns a chore into a moment "
        "together. Try it at bath time too."
    )
)


@contextmanager
def fake_twilio() -> Iterator[str]:
    """The fake Twilio in its own process; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.twilio_server", "--latency", str(LATENCY)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError("the fake Twilio did not start")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def fake_stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/_fake/stats") as response:
        stats: dict[str, int] = json.load(response)
    return stats


@contextmanager
def database(backend: str) -> Iterator[str]:
    """A migrated, empty scratch database; yields its URL."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{directory}/bench.db"
            engine = build_engine(url)
            upgrade(engine)
            engine.dispose()
            yield url
        return
    name = f"smstips_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
    try:
        engine = build_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def midday_zone() -> str:
    """A fixed-offset zone where it is about noon now, so every text is inside its window."""
    offset = max(-12, min(14, 12 - datetime.now(UTC).hour))
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def fill_outbox(engine: Engine, count: int, *, mixed_segments: bool = False) -> None:
    """`count` active caregivers with one due text each, inserted in bulk."""
    zone = midday_zone()
    now = datetime.now(UTC)
    with engine.begin() as connection:
        partner_id = connection.scalar(
            select(Partner.id).where(Partner.slug == DEFAULT_PARTNER_SLUG)
        )
        connection.execute(
            insert(Caregiver),
            [
                {
                    "id": n + 1,
                    "phone": f"+1202{n:07d}",
                    "language": "en",
                    "timezone": zone,
                    "region": None,
                    "status": "active",
                    "send_weekday": 0,
                    "send_hour": 12,
                    "partner_id": partner_id,
                    "conversation_data": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(count)
            ],
        )
        connection.execute(
            insert(OutboundMessage),
            [
                {
                    "dedupe_key": f"bench:{n}",
                    "kind": "tip",
                    "caregiver_id": n + 1,
                    "to_number": f"+1202{n:07d}",
                    "body": (TWO_SEGMENTS if mixed_segments and n % 2 else ONE_SEGMENT).format(n=n),
                    "segments": 2 if mixed_segments and n % 2 else 1,
                    "state": "pending",
                    "due_at": now - timedelta(seconds=1),
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(count)
            ],
        )


def bench_settings(url: str, rate: float) -> Settings:
    return make_settings(url, SMS_TIPS_SEND_RATE=f"{rate:g}", SMS_TIPS_DISPATCH_CONCURRENCY="100")


@dataclass(frozen=True)
class Run:
    """One dispatcher run: what it counted, and the wall time and process CPU of sending."""

    dispatcher: Dispatcher
    seconds: float
    cpu_seconds: float


async def run_dispatcher(
    url: str, fake_url: str, rate: float, *, seconds: float | None = None
) -> Run:
    """Run the real dispatcher until idle (or for `seconds`). The clocks run from its first
    claim to its last record: the process's start (importing the Twilio SDK, reading the
    settings, opening the pool) is paid once per process, not per text, so it is left out."""
    settings = bench_settings(url, rate)
    engine = build_engine(url)
    transport = TwilioTransport(settings, api_base_url=fake_url)
    dispatcher = Dispatcher(
        sessions=build_sessionmaker(engine), transport=transport, settings=settings
    )
    stop = asyncio.Event()
    if seconds is not None:
        asyncio.get_running_loop().call_later(seconds, stop.set)
    cpu = _cpu_seconds()
    started = time.perf_counter()
    try:
        await dispatcher.run(stop=stop, until_idle=seconds is None)
        elapsed, used = time.perf_counter() - started, _cpu_seconds() - cpu
    finally:
        await transport.aclose()
        engine.dispose()
    return Run(dispatcher, elapsed, used)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# The production issue's targets (#15): texts per second on each database, and the
# dispatcher's process CPU (user + system) per text sent.
TARGET_RATE = 1600
TARGET_CPU_US = 300


def throughput(backend: str, fake_url: str, count: int) -> tuple[float, float]:
    with database(backend) as url:
        engine = build_engine(url)
        fill_outbox(engine, count)
        run = eventloop.run(run_dispatcher(url, fake_url, rate=10_000))
        elapsed, used = run.seconds, run.cpu_seconds
        with engine.connect() as connection:
            sent = connection.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(OutboundMessage.state == "sent", OutboundMessage.provider_sid.is_not(None))
            )
        engine.dispose()
    print(
        f"  dispatcher on {backend:<10}: {count} texts in {elapsed:5.1f} s = "
        f"{count / elapsed:6.0f} msgs/s  (all sent and recorded: {sent == count}; "
        f"dispatcher CPU {used / count * 1e6:.0f} us/msg; "
        f"stats sent={run.dispatcher.stats.sent})",
        flush=True,
    )
    if sent != count:
        raise SystemExit(f"only {sent} of {count} rows were recorded as sent")
    return count / elapsed, used / count * 1e6


def sequential_loop(fake_url: str, seconds: float) -> float:
    """The naive baseline: one messages.create after another."""
    client = Client(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    client.api.base_url = fake_url
    sent = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        client.messages.create(
            to=f"+1303{sent:07d}",
            body=ONE_SEGMENT.format(n=sent),
            messaging_service_sid=TEST_MESSAGING_SERVICE_SID,
        )
        sent += 1
    rate = sent / (time.perf_counter() - started)
    print(f"  sequential messages.create loop: {sent} texts, {rate:6.1f} msgs/s", flush=True)
    return rate


def rate_cap(backend: str, fake_url: str, seconds: float) -> float:
    cap = 100.0
    with database(backend) as url:
        engine = build_engine(url)
        fill_outbox(engine, int(cap * seconds * 1.5), mixed_segments=True)
        engine.dispose()

        async def measured() -> int:
            before = fake_stats(fake_url)["segments"]
            task = asyncio.create_task(run_dispatcher(url, fake_url, rate=cap, seconds=seconds))
            await asyncio.sleep(seconds)
            during = fake_stats(fake_url)["segments"] - before
            await task
            return during

        segments = eventloop.run(measured())
    expected = cap * seconds
    print(
        f"  cap {cap:g} segments/s for {seconds:g} s on {backend:<10}: {segments} segments "
        f"(target {expected:.0f} +-5%: {abs(segments - expected) <= expected * 0.05})",
        flush=True,
    )
    return segments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000, help="texts per database")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--loop-seconds", type=float, default=10.0)
    parser.add_argument("--rate-seconds", type=float, default=30.0)
    args = parser.parse_args()
    backends = [name.strip() for name in args.backends.split(",") if name.strip()]

    print(f"Sending: fake Twilio answering in {LATENCY * 1000:.0f} ms, {os.cpu_count()} CPUs")
    with fake_twilio() as fake_url:
        runs = {backend: throughput(backend, fake_url, args.messages) for backend in backends}
        loop = sequential_loop(fake_url, args.loop_seconds)
        for backend, (rate, cpu_us) in runs.items():
            print(
                f"  {backend}: {rate:.0f} msgs/s = {rate / loop:.0f}x the sequential loop, "
                f"{cpu_us:.0f} us CPU/msg (targets: >= {TARGET_RATE} msgs/s: "
                f"{rate >= TARGET_RATE}; <= {TARGET_CPU_US} us/msg: {cpu_us <= TARGET_CPU_US})"
            )
        if args.rate_seconds > 0:
            for backend in backends:
                rate_cap(backend, fake_url, args.rate_seconds)


if __name__ == "__main__":
    main()
