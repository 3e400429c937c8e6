"""What every request handler needs (settings, database): built once per app, found per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import HTTPConnection

from sms_service.core.settings import Settings


class BackgroundService(Protocol):
    """Something that runs beside the web app in one process (the scheduler, the dispatcher)."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class AppContext:
    """The app's long-lived parts, shared by every request."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


def app_context(connection: HTTPConnection) -> AppContext:
    """The AppContext of the app serving this request."""
    context: AppContext = connection.app.state.context
    return context
