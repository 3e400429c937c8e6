"""Inbound webhook benchmark: `sms-tips web` against a minimal handler and a bare endpoint.

    .venv/bin/python -m benchmarks.bench_inbound                 # SQLite and PostgreSQL
    .venv/bin/python -m benchmarks.bench_inbound --seconds 5 --backends sqlite

For each database, three servers in turn, each on the same uvicorn (httptools, uvloop), each
in its own process, each sent its own unique, signed webhooks by `wrk` with 16 connections:
  full     `sms-tips web`: parents texting as they do (a new phone's JOIN, then the
           enrollment answers, HELP, a reply or two; new and known phones all through the
           run), every request signed against PUBLIC_BASE_URL with a unique MessageSid;
  minimal  the signature check and one insert (benchmarks/inbound_baselines.py);
  bare     a Starlette endpoint returning the same TwiML.
Prints requests/s, p50 and p99, and the full/minimal ratio. Full and minimal alternate
(--rounds, 2 by default), each round's ratio printed and their median: on these shared
machines one run of the same code varies by a fifth, a pair measured back to back much less.
Full and minimal run in one process, then (PostgreSQL) in 2 worker processes each
(--workers; SMS_TIPS_WEB_WORKERS, one per core as production runs them): one process uses one
core, however many requests wait. SQLite takes one web process (its writers would poll for the
file's lock).

The load generator is wrk (Debian's `wrk`), replaying pre-signed requests from a file
(benchmarks/inbound.lua): it is C on epoll and takes a small share of one core, where a
Python client would need about as much CPU per request as the server and starve it on a
2-core machine. PostgreSQL: a scratch database on $SMS_TIPS_TEST_POSTGRES.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from benchmarks.bench_sending import database
from sms_service.core.db import build_engine
from sms_service.core.models import InboundMessage
from sms_service.core.phones import to_e164
from tests.helpers.settings import service_environ
from tests.reliability.processes import answers, free_port, listening
from tests.reliability.traffic import INBOUND_PATH, sign, text_form

ROOT = Path(__file__).resolve().parents[1]
CONNECTIONS = 16
WRK_THREADS = 2
LUA = Path(__file__).with_name("inbound.lua")
# Requests per second the file is sized for (more than the bare endpoint reaches here).
SIZING_RATE = {"full": 1500, "minimal": 2500, "bare": 50000}
AREA_CODES = ["212", "305", "312", "404", "415", "503", "617", "713", "206", "602"]


def parent_texts(rng: random.Random) -> list[str]:
    """One parent's texts: JOIN, the three enrollment answers, then everyday life."""
    return [
        rng.choice(["JOIN", "join", "Join"]),
        rng.choice(["Maya", "Leo", "Ana María", "skip"]),
        rng.choice(["8 months", "3 weeks", "due 9/1", "2 years"]),
        rng.choice(["1", "2", "3", "4", "5", "6"]),
        "HELP",
        rng.choice(["thank you!", "We tried the song tonight", "she loved it"]),
        rng.choice(["ok", "Can I change the time?", "love these"]),
    ]


def phones(rng: random.Random, count: int) -> Iterator[str]:
    seen: set[str] = set()
    while len(seen) < count:
        number = f"+1{rng.choice(AREA_CODES)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        if number not in seen and to_e164(number) == number:
            seen.add(number)
            yield number


def full_traffic(count: int, run: str) -> Iterator[tuple[str, str]]:
    """(From, Body) pairs: blocks of 100 new parents, each block's first texts, then its
    second ones...: new phones arrive all through the run, and a parent's next text comes
    about a hundred requests after the previous one (their answer has long come back)."""
    rng = random.Random(run)
    numbers = phones(rng, count // 7 + 100)
    sent = 0
    while True:
        block = [(next(numbers), parent_texts(rng)) for _ in range(100)]
        for step in range(7):
            for number, texts in block:
                yield number, texts[step]
                sent += 1
                if sent == count:
                    return


def write_requests(path: Path, kind: str, count: int) -> None:
    """`count` signed webhooks, one "signature<TAB>body" line each, unique MessageSids."""
    run = uuid.uuid4().hex[:12]
    if kind == "full":
        pairs: Iterator[tuple[str, str]] = full_traffic(count, run)
    else:
        numbers = list(phones(random.Random(run), 1000))
        pairs = ((numbers[n % len(numbers)], "thank you!") for n in range(count))
    with path.open("w") as out:
        for n, (number, body) in enumerate(pairs):
            webhook = sign(INBOUND_PATH, text_form(number, body, f"SM{run}{n:020x}"))
            signature = webhook.headers["X-Twilio-Signature"]
            out.write(f"{signature}\t{webhook.content.decode()}\n")


@contextmanager
def server(kind: str, url: str, workdir: Path, workers: int = 1) -> Iterator[str]:
    """The `kind` server on a free loopback port, in `workers` processes of its own; yields
    its base URL."""
    port = free_port()
    if kind == "full":
        command = [str(Path(sys.executable).with_name("sms-tips")), "web", "--port", str(port)]
    else:
        command = [sys.executable, "-m", "benchmarks.inbound_baselines", kind, "--port", str(port)]
        command += ["--workers", str(workers)] if workers > 1 else []
    several = {}
    if workers > 1:
        several = {
            "SMS_TIPS_WEB_WORKERS": str(workers),
            "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="prometheus-", dir=workdir),
        }
    environ = service_environ(url, PATH="/usr/bin:/bin", **several)
    log = (workdir / f"{kind}.log").open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=environ, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        # Every worker listening, not the first: one alone would take all of wrk's connections.
        while not (answers(base) and listening(Path(log.name)) >= workers):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{kind} server did not start: see {log.name}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@dataclass(frozen=True)
class Figures:
    rate: float
    p50_ms: float
    p99_ms: float
    requests: int
    failed: int


def load(base: str, requests_file: Path, seconds: int) -> Figures:
    """wrk with CONNECTIONS connections for `seconds`, replaying `requests_file`."""
    output = subprocess.run(
        [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--timeout",
            "20s",
            "-s",
            str(LUA),
            base,
            "--",
            str(requests_file),
            str(WRK_THREADS),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK "))
    result = json.loads(line[4:])
    return Figures(
        rate=result["requests"] / (result["duration_us"] / 1e6),
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        requests=result["requests"],
        failed=result["non_2xx"] + result["socket_errors"],
    )


def measure(backend: str, kind: str, seconds: int, workdir: Path, workers: int = 1) -> Figures:
    count = int(SIZING_RATE[kind] * seconds)
    requests_file = workdir / f"{backend}-{kind}.txt"
    write_requests(requests_file, kind, count)
    with database(backend) as url, server(kind, url, workdir, workers) as base:
        figures = load(base, requests_file, seconds)
        if kind != "bare":
            engine = build_engine(url)
            with engine.connect() as connection:
                stored = connection.scalar(select(func.count()).select_from(InboundMessage)) or 0
            engine.dispose()
            # (a few more than wrk counted: the answers still in flight when it stopped)
            if stored < figures.requests - figures.failed:
                print(f"  ! {kind}: {stored} texts stored for {figures.requests} requests")
    if figures.requests > count:
        print(f"  ! {kind}: the run outlasted its {count} requests (MessageSids repeated)")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="full and minimal, alternating")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="web processes (PostgreSQL: 2+)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench_inbound needs wrk: apt-get install -y wrk")
    print(
        f"Inbound webhook, {CONNECTIONS} connections, {args.seconds:g} s each (wrk), "
        f"full and minimal alternating {args.rounds} times"
    )
    print(
        f"{'database':<11}{'handler':<9}{'workers':>8}{'requests/s':>11}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'failed':>8}"
    )
    with tempfile.TemporaryDirectory() as directory:
        for backend in args.backends:
            for workers in args.workers:
                if workers > 1 and backend == "sqlite":
                    print(f"{backend:<11}{workers} workers: not run (SQLite takes one web process)")
                    continue
                compare(backend, workers, args.seconds, args.rounds, Path(directory))
            report(backend, "bare", 1, measure(backend, "bare", args.seconds, Path(directory)))


def compare(backend: str, workers: int, seconds: int, rounds: int, workdir: Path) -> None:
    """Full and minimal alternating `rounds` times in `workers` processes each; the ratios."""
    ratios = []
    label = f"{backend:<11}{workers} worker{'s' if workers > 1 else ''}:"
    for _round in range(rounds):
        full, minimal = (
            report(backend, kind, workers, measure(backend, kind, seconds, workdir, workers))
            for kind in ("full", "minimal")
        )
        ratios.append(full.rate / minimal.rate)
        print(f"{label} full/minimal {ratios[-1]:.0%}", flush=True)
    if len(ratios) > 1:
        print(
            f"{label} full/minimal, median of {len(ratios)}: {statistics.median(ratios):.0%}",
            flush=True,
        )


def report(backend: str, kind: str, workers: int, figures: Figures) -> Figures:
    """Print one line of figures; returns them."""
    print(
        f"{backend:<11}{kind:<9}{workers:>8}{figures.rate:>11.0f}{figures.p50_ms:>9.1f}"
        f"{figures.p99_ms:>9.1f}{figures.failed:>8}",
        flush=True,
    )
    return figures


if __name__ == "__main__":
    main()
