"""Small helpers the admin views share: flash messages and the redirect after a post."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse


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
