"""Small helpers the admin views share: flash messages, the redirect after a post, the date
range a page is asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse

from sms_service.core.models import utcnow
from sms_service.reports.period import (
    DEFAULT_PRESET,
    Period,
    PeriodError,
    period_from_query,
    preset_period,
)
from sms_service.web.context import app_context, in_transaction


def flash(request: Request, message: str, kind: str = "notice") -> None:
    """Keep a message for the next page this person sees."""
    request.session["flash"] = [kind, message]


def take_flash(request: Request) -> dict[str, Any]:
    """The pending flash message as template variables (`notice` or `error`)."""
    stored = request.session.pop("flash", None)
    if isinstance(stored, list) and len(stored) == 2:
        return {str(stored[0]): str(stored[1])}
    return {}


def requested_period(request: Request) -> tuple[Period, str | None]:
    """The date range the query asks for (in the program's zone), or the default range and
    why the asked one is refused."""
    zone = app_context(request).settings.zone
    today = utcnow().astimezone(zone).date()
    try:
        return period_from_query(request.query_params, today=today, zone=zone), None
    except PeriodError as error:
        return preset_period(DEFAULT_PRESET, today=today, zone=zone), str(error)


def redirect(path: str) -> RedirectResponse:
    """See-other redirect after a form post."""
    return RedirectResponse(path, status_code=303)


async def act_then_show(
    request: Request,
    work: Callable[[Session], str],
    *,
    refusals: tuple[type[Exception], ...],
    then: str,
) -> RedirectResponse:
    """Run a staff action in one transaction, flash what it did (or why it was refused: one
    of `refusals`), and redirect to the page `then` that shows the result."""
    try:
        message = await in_transaction(request, work)
    except refusals as error:
        flash(request, str(error), "error")
    else:
        flash(request, message)
    return redirect(then)
