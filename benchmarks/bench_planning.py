"""Planning benchmark: the weekly planner against a bare INSERT ... SELECT and naive APScheduler.

    .venv/bin/python -m benchmarks.bench_planning --caregivers 100000
    .venv/bin/python -m benchmarks.bench_planning --caregivers 1000000 --backends sqlite postgresql

For each database (SQLite in WAL mode, PostgreSQL on $SMS_TIPS_TEST_POSTGRES), it loads
synthetic caregivers (benchmarks/synthetic.py: 1-3 children, weeks of history, everyone due
at the measured moment), then measures, each in a fresh child process (wall time of the work
and the process's peak RSS, VmHWM):
  floor    one bare INSERT INTO outbound_message ... SELECT ... JOIN ... ON CONFLICT DO NOTHING
           writing one row per active child (no time zones, ages, history or rendering);
  planner  jobs.planner.plan() at that moment: the real thing;
  naive    one APScheduler job per caregiver (a cron trigger in its time zone) added to a
           SQLAlchemyJobStore on the same database: measured for 20,000 caregivers and
           extrapolated to all of them.
and prints the ratios (targets: planner <= 3x floor, RSS <= 300 MB, >= 200x faster than naive).
With --survey the shipped survey is active, so the planner also plans survey questions (they
take the week's one text of the families they reach) through the same set-based batches.
With --experiment every live tip is in a running experiment (a second wording for half the
families), so every planned tip's arm is computed in the planner's SQL (sha256 in PostgreSQL,
the registered function in SQLite) and stored on its row; the planner / floor ratio should
stay within 2x of the ratio without experiments.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from benchmarks.synthetic import BENCH_NOW, describe, populate
from jobs.planner import plan
from sms_service.core.db import build_engine, build_sessionmaker, transaction, upgrade
from sms_service.core.models import Experiment, Tip, UTCDateTime
from sms_service.core.settings import Settings
from sms_service.surveys.definitions import install_default, start_survey

POSTGRES_SERVER = os.environ.get(
    "SMS_TIPS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NAIVE_SAMPLE = 20_000
NAIVE_TABLE = "bench_naive_jobs"

FLOOR_SQL = """
INSERT INTO outbound_message (dedupe_key, kind, caregiver_id, child_id, tip_id, tip_version,
    to_number, body, segments, state, due_at, attempts, created_at, updated_at)
SELECT 'floor:' || CAST(ch.id AS VARCHAR(20)), 'tip', cg.id, ch.id, t.id, t.version,
    cg.phone, t.text, 1, 'pending', :now, 0, :now, :now
FROM caregiver cg
JOIN child ch ON ch.caregiver_id = cg.id
JOIN tip t ON t.id = CASE cg.language WHEN 'en' THEN :en_tip ELSE :es_tip END
WHERE cg.status = 'active' AND ch.status = 'active'
ON CONFLICT (dedupe_key) DO NOTHING
"""


def naive_weekly_tip(caregiver_id: int) -> None:
    """What the naive design's per-caregiver job would call (never run by the benchmark)."""


# --- workers: each runs in its own process so its peak RSS is its own ---------------------


def _peak_rss_mb() -> float:
    # VmHWM is this process image's own peak; ru_maxrss can carry the parent's peak over
    # fork + exec on Linux, which would charge the data generator's memory to the worker.
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _work_floor(url: str) -> dict[str, Any]:
    engine = build_engine(url)
    with engine.begin() as connection:
        first = {
            language: connection.execute(
                text("SELECT min(id) FROM tip WHERE language = :language AND retired_at IS NULL"),
                {"language": language},
            ).scalar_one()
            for language in ("en", "es")
        }
    statement = text(FLOOR_SQL).bindparams(bindparam("now", type_=UTCDateTime()))
    started = time.perf_counter()
    with engine.begin() as connection:
        rows = connection.execute(
            statement.execution_options(preserve_rowcount=True),
            {"now": BENCH_NOW, "en_tip": first["en"], "es_tip": first["es"]},
        ).rowcount
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"seconds": seconds, "rows": rows, "rss_mb": _peak_rss_mb()}


def _work_planner(url: str) -> dict[str, Any]:
    engine = build_engine(url)
    settings = Settings(database_url=url)
    started = time.perf_counter()
    report = plan(engine, now=BENCH_NOW, settings=settings)
    seconds = time.perf_counter() - started
    engine.dispose()
    rows = report.planned + report.asked
    return {"seconds": seconds, "rows": rows, "asked": report.asked, "rss_mb": _peak_rss_mb()}


def _work_naive(url: str) -> dict[str, Any]:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    engine = build_engine(url)
    with engine.connect() as connection:
        caregivers = connection.execute(
            text(
                "SELECT id, timezone, send_weekday, send_hour FROM caregiver "
                "WHERE status = 'active' ORDER BY id LIMIT :n"
            ),
            {"n": NAIVE_SAMPLE},
        ).all()
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=NAIVE_TABLE)},
        timezone="UTC",
    )
    scheduler.start(paused=True)
    started = time.perf_counter()
    for caregiver_id, timezone, weekday, hour in caregivers:
        scheduler.add_job(
            f"{__name__}:naive_weekly_tip",
            "cron",
            day_of_week=weekday,
            hour=hour,
            timezone=timezone,
            args=[caregiver_id],
            id=f"tip-{caregiver_id}",
            replace_existing=True,
        )
    seconds = time.perf_counter() - started
    scheduler.shutdown(wait=False)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {NAIVE_TABLE}"))
    engine.dispose()
    return {"seconds": seconds, "rows": len(caregivers), "rss_mb": _peak_rss_mb()}


WORKERS = {"floor": _work_floor, "planner": _work_planner, "naive": _work_naive}


def _run_worker(kind: str, url: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_planning", "--worker", kind, "--url", url],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


# --- databases ----------------------------------------------------------------------------


@contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    """A new, migrated database for one run; removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-planning-") as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            _migrate(url)
            yield url
        return
    name = f"bench_planning_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url: str) -> None:
    engine = build_engine(url)
    upgrade(engine)
    engine.dispose()


def _forget_floor_rows(url: str) -> None:
    engine = build_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM outbound_message WHERE dedupe_key LIKE 'floor:%'"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE outbound_message"))
    engine.dispose()


# --- the benchmark ------------------------------------------------------------------------


def _start_experiments(engine: Any) -> int:
    """A running experiment on every live tip, wording B for half the families."""
    with transaction(build_sessionmaker(engine)) as session:
        tips = session.query(Tip).filter(Tip.retired_at.is_(None)).order_by(Tip.id).all()
        session.add_all(
            Experiment(tip_id=tip.id, wording_b=f"{tip.text} Try it today.", share_b=0.5,
                       started_at=BENCH_NOW, target_size=10_000_000)
            for tip in tips
        )  # fmt: skip
        return len(tips)


def _arms(url: str) -> dict[str, int]:
    engine = build_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT coalesce(arm, '-'), count(*) FROM outbound_message GROUP BY arm")
        ).all()
    engine.dispose()
    return {str(arm): int(count) for arm, count in rows}


def bench(
    backend: str, caregivers: int, *, survey: bool = False, experiment: bool = False
) -> dict[str, Any]:
    """Load, then measure floor, planner and naive on one backend; print and return figures."""
    print(f"\n== {backend}: {caregivers:,} caregivers", flush=True)
    with scratch_database(backend) as url:
        started = time.perf_counter()
        engine = build_engine(url)
        loaded = populate(engine, caregivers=caregivers)
        if survey:
            with transaction(build_sessionmaker(engine)) as session:
                shipped = install_default(session=session, now=BENCH_NOW)
                start_survey(session=session, survey_id=shipped.id, now=BENCH_NOW)
        experiments = _start_experiments(engine) if experiment else 0
        engine.dispose()
        print(f"loaded {describe(loaded)} in {time.perf_counter() - started:.1f} s", flush=True)

        floor = _run_worker("floor", url)
        _forget_floor_rows(url)
        planner = _run_worker("planner", url)
        arms = _arms(url) if experiment else {}
        naive = _run_worker("naive", url)

    naive_total = naive["seconds"] / naive["rows"] * caregivers
    figures = {
        "backend": backend,
        "caregivers": caregivers,
        "floor_s": floor["seconds"],
        "floor_rows": floor["rows"],
        "planner_s": planner["seconds"],
        "planner_rows": planner["rows"],
        "planner_rss_mb": planner["rss_mb"],
        "naive_jobs_per_s": naive["rows"] / naive["seconds"],
        "naive_extrapolated_s": naive_total,
        "planner_vs_floor": planner["seconds"] / floor["seconds"],
        "naive_vs_planner": naive_total / planner["seconds"],
        "experiments": experiments,
        "arms": arms,
    }
    print(
        f"floor    {floor['seconds']:8.2f} s  {floor['rows']:>10,} rows  "
        f"RSS {floor['rss_mb']:.0f} MB\n"
        f"planner  {planner['seconds']:8.2f} s  {planner['rows']:>10,} rows  "
        f"({planner['asked']:,} survey questions)  RSS {planner['rss_mb']:.0f} MB\n"
        f"naive    {naive['rows']:,} APScheduler jobs in {naive['seconds']:.1f} s = "
        f"{figures['naive_jobs_per_s']:.0f} jobs/s -> {naive_total:,.0f} s for {caregivers:,}\n"
        f"planner / floor = {figures['planner_vs_floor']:.2f}x (target <= 3x); "
        f"peak RSS {planner['rss_mb']:.0f} MB (target <= 300 MB); "
        f"naive / planner = {figures['naive_vs_planner']:,.0f}x (target >= 200x)",
        flush=True,
    )
    if experiment:
        print(
            f"experiments on {experiments:,} tips: rows by arm {arms} "
            f"(planner / floor {figures['planner_vs_floor']:.2f}x with them)",
            flush=True,
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--caregivers", type=int, default=100_000)
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--survey", action="store_true", help="with the shipped survey active")
    parser.add_argument(
        "--experiment", action="store_true", help="with a running experiment on every tip"
    )
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args.url)))
        return 0
    for backend in args.backends:
        bench(backend, args.caregivers, survey=args.survey, experiment=args.experiment)
    return 0


if __name__ == "__main__":
    sys.exit(main())
