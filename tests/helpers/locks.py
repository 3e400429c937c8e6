"""Waiting, in a test, until another thread's transaction waits on a PostgreSQL lock."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, text


def wait_until_blocked(
    engine: Engine, worker: threading.Thread, *, wait_event: str | None = None
) -> None:
    """On PostgreSQL, until some connection waits on a lock (of `wait_event`, e.g. "advisory",
    when given) while `worker` is still running; at most 10 s. Other databases return at once."""
    if engine.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + 10
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND (CAST(:event AS text) IS NULL OR wait_event = :event) "
        "AND datname = current_database()"
    )
    # Autocommit: inside one transaction PostgreSQL keeps showing its first snapshot of
    # pg_stat_activity, so a poll that started before the worker blocked would never see it.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        while connection.execute(query, {"event": wait_event}).scalar_one() == 0:
            assert worker.is_alive() and time.monotonic() < deadline
            time.sleep(0.01)
