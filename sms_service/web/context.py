"""What every request handler needs (settings, database): built once per app, found per request,
and the way handlers run database work off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
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
    sessions = (source if isinstance(source, AppContext) else app_context(source)).sessions

    def run() -> T:
        with begin(sessions) as session:
            return work(session, *args, **kwargs)

    return await run_in_threadpool(run)
