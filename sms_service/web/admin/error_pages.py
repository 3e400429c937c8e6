"""Refusals inside the admin answered as pages with the navigation, not plain text."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sms_service.web.admin.templating import render


async def admin_only(request: Request, exc: Exception) -> Response:
    """A staff member opened what only admins may: say so on a page they can leave."""
    detail = exc.detail if isinstance(exc, HTTPException) else "Only admins can do this."
    return render(request, "forbidden.html", status_code=403, message=detail)


async def not_found(request: Request, exc: Exception) -> Response:
    """No such record, or one this person's scope does not see: the same page either way."""
    return render(request, "not_found.html", status_code=404, error=str(exc))
