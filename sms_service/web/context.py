"""What every request handler needs (settings, database): built once per app, found per request,
and the way handlers run database work off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cached_property
from typing import Concatenate, ParamSpec, Protocol, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import HTTPConnection

from sms_service.core.db import read_transaction, transaction
from sms_service.core.settings import Settings

T = TypeVar("T")
P = ParamSpec("P")


class BackgroundService(Protocol):
    """Something that runs beside the web app in one process (the scheduler, the dispatcher)."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class AppContext:
    """The app's long-lived parts, shared by every request."""

    settings: Settings
    sessions: sessionmaker[Session]

    @cached_property
    def threads(self) -> CapacityLimiter:
        """The worker threads database work runs on: SMS_TIPS_WEB_DB_THREADS at once. Python
        runs one thread at a time, so a few threads keep the database busy and the CPU
        working; the starlette default of 40 had each webhook wait its turn for the
        interpreter lock after every query instead (slower and far less even)."""
        return CapacityLimiter(self.settings.web_db_threads)


def app_context(connection: HTTPConnection) -> AppContext:
    """The AppContext of the app serving this request."""
    context: AppContext = connection.app.state.context
    return context


async def in_transaction(
    source: AppContext | HTTPConnection,
    work: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run `work(session, *args, **kwargs)` on a worker thread in one transaction, committed
    when it returns and rolled back when it raises."""
    return await _off_loop(transaction, source, work, *args, **kwargs)


async def in_read_transaction(
    source: AppContext | HTTPConnection,
    work: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Like `in_transaction` for work that only reads: it never waits for, or holds up, a
    writer (a write in it fails)."""
    return await _off_loop(read_transaction, source, work, *args, **kwargs)


async def _off_loop(
    begin: Callable[[sessionmaker[Session]], AbstractContextManager[Session]],
    source: AppContext | HTTPConnection,
    work: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    context = source if isinstance(source, AppContext) else app_context(source)

    def run() -> T:
        with begin(context.sessions) as session:
            return work(session, *args, **kwargs)

    return await anyio.to_thread.run_sync(run, limiter=context.threads)
