"""Only one scheduler per database runs the jobs; a standby takes over when the leader dies."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from apscheduler.schedulers.base import STATE_PAUSED
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from jobs.leadership import AdvisoryLock, Election, FileLock, leader_lock
from jobs.scheduler import ActiveScheduler
from sms_service.core.db import build_engine
from sms_service.core.settings import Settings
from tests.helpers.settings import make_settings


@pytest.fixture
def second_engine(database_url: str) -> Iterator[Engine]:
    """Another process's view of the same database (its own connections)."""
    engine = build_engine(database_url)
    yield engine
    engine.dispose()


def test_one_lock_per_database_until_its_holder_lets_go(
    engine: Engine, second_engine: Engine
) -> None:
    first, second = leader_lock(engine), leader_lock(second_engine)
    try:
        assert first.acquire() and first.held()
        assert not second.acquire() and not second.held()
        assert first.acquire()  # asking again while holding it is harmless
        first.release()
        assert not first.held()
        assert second.acquire() and second.held()
        assert not first.acquire()
    finally:
        first.release()
        second.release()


def test_a_leader_whose_database_session_ends_loses_the_lock(
    engine: Engine, second_engine: Engine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("a SQLite file lock lives in the kernel, not in a database session")
    first, second = AdvisoryLock(engine), AdvisoryLock(second_engine)
    try:
        assert first.acquire()
        with second_engine.connect() as connection:
            # What a server restart or a network cut does to the leader's session.
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND pid <> pg_backend_pid() AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
        assert not first.held()
        assert second.acquire()
    finally:
        first.release()
        second.release()


def _schedulers(settings: Settings, *engines: Engine) -> list[ActiveScheduler]:
    return [ActiveScheduler(settings, engine) for engine in engines]


def test_two_schedulers_on_one_database_and_only_one_runs_jobs(
    settings: Settings, engine: Engine, second_engine: Engine
) -> None:
    fast = make_settings(settings.database_url, SMS_TIPS_SCHEDULER_TAKEOVER_SECONDS="1")
    leader, standby = _schedulers(fast, engine, second_engine)
    leader.start()
    try:
        assert leader.leading.wait(timeout=10)
        standby.start()
        time.sleep(1.5)  # a full round of the standby's polling
        assert not standby.leading.is_set()
        assert standby.scheduler.state == STATE_PAUSED  # its jobs do not run
        leader.stop()
        assert standby.leading.wait(timeout=10)  # it takes over within its polling interval
        assert {job.id for job in standby.scheduler.get_jobs()} == {
            "tip-planner",
            "age-out",
            "campaign-planner",
        }
    finally:
        leader.stop()
        standby.stop()


def _start(database_url: str) -> subprocess.Popen[str]:
    environ = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SMS_TIPS_LOG_LEVEL": "WARNING",
        "SMS_TIPS_SCHEDULER_TAKEOVER_SECONDS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "sms_service", "scheduler"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _line(stream: IO[str] | None, timeout: float = 30) -> str:
    """The next line the process prints, failing (not hanging) if none comes in time."""
    assert stream is not None
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, f"no output within {timeout} s"
    return stream.readline().strip()


def test_a_standby_scheduler_process_takes_over_when_the_leader_is_killed(
    database_url: str, tmp_path: Path
) -> None:
    leader = _start(database_url)
    standby: subprocess.Popen[str] | None = None
    try:
        assert _line(leader.stdout) == "scheduler: leading, running 3 jobs"
        standby = _start(database_url)
        assert _line(standby.stdout) == (
            "scheduler: standing by, another scheduler is active on this database"
        )
        leader.send_signal(signal.SIGKILL)  # no clean-up: the lock must die with the process
        leader.wait(timeout=10)
        killed_at = time.monotonic()
        assert _line(standby.stdout) == "scheduler: leading, running 3 jobs"
        assert time.monotonic() - killed_at < 10
        standby.send_signal(signal.SIGTERM)
        out, err = standby.communicate(timeout=30)
        assert standby.returncode == 0, err
        assert out.strip() == "scheduler: stopped"
    finally:
        for process in (leader, standby):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
            if process is not None:
                for stream in (process.stdout, process.stderr):
                    if stream is not None:
                        stream.close()


def test_a_scheduler_that_fails_to_take_the_lead_lets_go_and_tries_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lock = FileLock(tmp_path / "db.scheduler.lock")
    rival = FileLock(tmp_path / "db.scheduler.lock")
    attempts: list[bool] = []
    stopped_while_holding: list[bool] = []
    led = threading.Event()

    def take_the_lead() -> None:
        # While we hold the lock nobody else may; the first attempt fails (database gone).
        attempts.append(rival.acquire())
        if len(attempts) == 1:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        led.set()

    election = Election(
        lock,
        on_elected=take_the_lead,
        # The work that had started is stopped before the lock goes: no job runs unlocked.
        on_lost=lambda: stopped_while_holding.append(lock.held()),
        on_standby=lambda: None,
        poll_seconds=0.05,
    )
    election.start()
    try:
        assert led.wait(timeout=10)
    finally:
        election.stop()
        election.release()
    assert attempts == [False, False]
    assert stopped_while_holding == [True]
    assert "could not take the lead" in caplog.text
    assert rival.acquire()  # released on stop
    rival.release()
