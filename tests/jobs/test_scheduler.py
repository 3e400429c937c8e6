"""The scheduler: jobs stored by reference with fixed ids, surviving restarts, never dying."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from jobs import runtime
from jobs.scheduler import (
    AGING_JOB_ID,
    CAMPAIGN_PLANNER_JOB_ID,
    JOBS_TABLE,
    PLANNER_JOB_ID,
    ActiveScheduler,
    SchedulerService,
    build_scheduler,
    register_jobs,
)
from sms_service.core.db import build_engine
from sms_service.core.settings import Settings
from tests.helpers.settings import make_settings

EXPECTED = {
    PLANNER_JOB_ID: "jobs.planner:plan_due_tips",
    AGING_JOB_ID: "jobs.aging:complete_aged_out",
    CAMPAIGN_PLANNER_JOB_ID: "jobs.campaign_planner:plan_due_campaigns",
}


@pytest.fixture
def started(settings: Settings, engine: Engine) -> Iterator[BackgroundScheduler]:
    scheduler = build_scheduler(settings, engine=engine)
    scheduler.start(paused=True)  # registered, but nothing runs
    register_jobs(scheduler, settings)
    yield scheduler
    if scheduler.running:
        scheduler.shutdown(wait=True)


def stored_ids(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.execute(text(f"SELECT id FROM {JOBS_TABLE}")).scalars())


def test_jobs_are_stored_by_reference_with_fixed_ids_and_deliberate_defaults(
    started: BackgroundScheduler, engine: Engine, settings: Settings, database_url: str
) -> None:
    jobs = {job.id: job for job in started.get_jobs()}
    assert {job_id: job.func_ref for job_id, job in jobs.items()} == EXPECTED
    assert stored_ids(engine) == sorted(EXPECTED)
    for job in jobs.values():
        assert job.args == (runtime.database_key(database_url),)  # primitive, picklable
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time > 1
    assert jobs[PLANNER_JOB_ID].trigger.interval.total_seconds() == 60 * 5


def test_jobs_survive_a_restart_and_re_registering_replaces_them(
    started: BackgroundScheduler, engine: Engine, settings: Settings
) -> None:
    started.shutdown(wait=True)
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT id, next_run_time FROM {JOBS_TABLE}"))
        stored = {job_id: next_run for job_id, next_run in rows}

    # A restart reloads the jobs from the database alone ...
    reloaded = build_scheduler(settings, engine=engine)
    reloaded.start(paused=True)
    try:
        assert {job.id: job.next_run_time.timestamp() for job in reloaded.get_jobs()} == stored
        assert {job.id: job.func_ref for job in reloaded.get_jobs()} == EXPECTED
    finally:
        reloaded.shutdown(wait=True)

    # ... and the normal start-up replaces them (a new interval applies, nothing doubles).
    faster = Settings.from_env(
        {"DATABASE_URL": settings.database_url, "SMS_TIPS_PLANNER_INTERVAL_MINUTES": "2"},
        env_file=None,
    )
    again = ActiveScheduler(faster, engine)
    again.start()
    try:
        assert again.leading.wait(timeout=10)
        assert stored_ids(engine) == sorted(EXPECTED)
        planner = again.scheduler.get_job(PLANNER_JOB_ID)
        assert planner is not None
        assert planner.trigger.interval.total_seconds() == 120
    finally:
        again.stop()


def test_every_registered_job_runs_from_its_stored_reference(
    started: BackgroundScheduler, database_url: str
) -> None:
    for job in started.get_jobs():
        assert job.func(*job.args) == 0  # an empty database: nothing to do, no error


def test_the_job_table_holds_no_database_password(database_url: str, engine: Engine) -> None:
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("a SQLite URL has no password")
    # These machines' PostgreSQL trusts local connections, so any password is accepted.
    settings = make_settings(url.set(password="s3cret-pw").render_as_string(hide_password=False))
    scheduler_engine = build_engine(settings.database_url)
    scheduler = build_scheduler(settings, engine=scheduler_engine)
    scheduler.start(paused=True)
    try:
        register_jobs(scheduler, settings)
        with engine.connect() as connection:
            states = connection.execute(text(f"SELECT job_state FROM {JOBS_TABLE}")).scalars()
            assert all(b"s3cret-pw" not in bytes(state) for state in states)
        # ... and the jobs still reach the database, through the scheduler's own engine.
        jobs = scheduler.get_jobs()
        assert [job.func(*job.args) for job in jobs] == [0, 0, 0]
    finally:
        scheduler.shutdown(wait=True)
        scheduler_engine.dispose()
    # A job run where no scheduler serves its database says which one, password masked.
    with pytest.raises(LookupError, match=r"postgres:\*\*\*@.*/smstips_test_\w+$"):
        jobs[0].func(*jobs[0].args)


def failing_job() -> None:
    """A job that always raises."""
    raise RuntimeError("boom")


def test_a_failing_job_is_logged_and_the_scheduler_keeps_running(
    started: BackgroundScheduler, caplog: pytest.LogCaptureFixture
) -> None:
    failed = threading.Event()

    def on_error(event: JobExecutionEvent) -> None:
        failed.set()

    started.add_listener(on_error, EVENT_JOB_ERROR)
    started.add_job(f"{__name__}:failing_job", id="boom", replace_existing=True)
    started.resume()
    assert failed.wait(timeout=10)
    started.pause()
    assert started.running
    assert {job.id for job in started.get_jobs()} >= set(EXPECTED)
    assert any("job boom failed: boom" in record.getMessage() for record in caplog.records)


def test_scheduler_service_starts_and_stops_with_the_app(
    settings: Settings, engine: Engine
) -> None:
    service = SchedulerService(settings)
    assert service.name == "scheduler"

    async def cycle() -> None:
        await service.start()
        deadline = time.monotonic() + 10
        while stored_ids(engine) != sorted(EXPECTED):  # it takes the lead, then registers
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        await service.stop()

    asyncio.run(cycle())


def test_the_scheduler_command_runs_until_sigterm(database_url: str) -> None:
    environ = {**os.environ, "DATABASE_URL": database_url, "SMS_TIPS_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, "-m", "sms_service", "scheduler"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "scheduler: leading, running 3 jobs"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert out.strip() == "scheduler: stopped"
