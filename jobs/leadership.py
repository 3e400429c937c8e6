"""Leadership: one scheduler per database runs the jobs, any other stands by to take over.

APScheduler 3.x's job store has no locking, so two schedulers on one database would both run
every job. The leader holds a lock that dies with its process: a PostgreSQL session advisory
lock (released by the server when the connection ends, however the process ended), or, for a
SQLite file, an flock on a file beside it (released by the kernel). A standby tries again
every few seconds, so a crashed leader is replaced within that time.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

logger = logging.getLogger(__name__)

# pg_advisory_lock takes a bigint; derive a fixed one so no other application's key collides.
ADVISORY_KEY = int.from_bytes(
    hashlib.sha256(b"sms-tips/scheduler").digest()[:8], "big", signed=True
)


class LeaderLock(Protocol):
    def acquire(self) -> bool:
        """Take the lock if it is free (True also when already held)."""

    def held(self) -> bool:
        """Whether the lock is still ours (a lost database connection loses it)."""

    def release(self) -> None: ...


class AdvisoryLock:
    """A PostgreSQL session advisory lock on a connection kept for as long as it is held."""

    def __init__(self, engine: Engine, key: int = ADVISORY_KEY) -> None:
        self._engine = engine
        self._key = key
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        if self._connection is not None:
            return self.held()
        try:
            connection = self._engine.connect()
        except DBAPIError as error:
            logger.warning("scheduler lock: database unreachable: %s", error.orig)
            return False
        try:
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            ).scalar_one()
            connection.commit()
        except DBAPIError as error:
            logger.warning("scheduler lock: %s", error.orig)
            taken = False
        if not taken:
            connection.close()
            return False
        self._connection = connection
        return True

    def held(self) -> bool:
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
        except DBAPIError:
            self._drop()  # the server ended our session, and our lock with it
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            self._drop()

    def _drop(self) -> None:
        assert self._connection is not None
        # Invalidate rather than return it to the pool: closing the server session is what
        # releases a session lock, and a pooled connection would keep it for its next user.
        self._connection.invalidate()
        self._connection.close()
        self._connection = None


class FileLock:
    """An exclusive flock on a file beside a SQLite database (one machine, like the file)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


class ProcessLock:
    """For an in-memory SQLite database, which no other process can open anyway."""

    def __init__(self) -> None:
        self._held = False

    def acquire(self) -> bool:
        self._held = True
        return True

    def held(self) -> bool:
        return self._held

    def release(self) -> None:
        self._held = False


def leader_lock(engine: Engine) -> LeaderLock:
    """The lock that elects the one active scheduler of `engine`'s database."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return FileLock(Path(f"{database}.scheduler.lock"))
    return ProcessLock()


class Election:
    """A thread that keeps trying for `lock`: `on_elected` runs when it is taken, `on_lost`
    when a held lock is lost, `on_standby` when another holds it (once per wait); all run on
    this thread, never at the same time."""

    def __init__(
        self,
        lock: LeaderLock,
        *,
        on_elected: Callable[[], None],
        on_lost: Callable[[], None],
        on_standby: Callable[[], None],
        poll_seconds: float,
    ) -> None:
        self._lock = lock
        self._on_elected = on_elected
        self._on_lost = on_lost
        self._on_standby = on_standby
        self._poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler-election", daemon=True)
        self.leading = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop campaigning; the caller stops the work, then calls `release`."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def release(self) -> None:
        self._lock.release()
        self.leading = False

    def _run(self) -> None:
        waiting_said = False
        while not self._stop.is_set():
            if not self.leading:
                if self._lock.acquire():
                    self.leading = True
                    try:
                        self._on_elected()
                    except Exception:
                        # Most likely the database went away mid-way: stop whatever work had
                        # already started (jobs resumed) while the lock is still ours, then let
                        # another scheduler (or this one, next time round) lead afresh.
                        logger.exception("scheduler could not take the lead; trying again")
                        self._on_lost()
                        self.release()
                elif not waiting_said:
                    self._on_standby()
                    waiting_said = True
            elif not self._lock.held():
                self.leading, waiting_said = False, False
                logger.error("scheduler lost its leadership (database connection lost)")
                self._on_lost()
            self._stop.wait(self._poll_seconds)
