"""Small helpers the admin views share: database work off the event loop, flash messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse

from sms_service.core.db import transaction
from sms_service.web.context import app_context

T = TypeVar("T")


async def in_transaction(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work(session)` in one transaction on a worker thread; commit when it returns."""

    def run() -> T:
        with transaction(app_context(request).sessions) as session:
            return work(session)

    return await run_in_threadpool(run)


def flash(request: Request, message: str, kind: str = "notice") -> None:
    """Keep a message for the next page this person sees."""
    request.session["flash"] = [kind, message]


def take_flash(request: Request) -> dict[str, Any]:
    """The pending flash message as template variables (`notice` or `error`)."""
    stored = request.session.pop("flash", None)
    if isinstance(stored, list) and len(stored) == 2:
        return {str(stored[0]): str(stored[1])}
    return {}


def redirect(path: str) -> RedirectResponse:
    """See-other redirect after a form post."""
    return RedirectResponse(path, status_code=303)
