"""Sign-in and sign-out pages."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sms_service.core.models import utcnow
from sms_service.staff.signin import authenticate, end_sessions
from sms_service.web.admin.forms import text_field
from sms_service.web.admin.templating import render
from sms_service.web.context import in_transaction
from sms_service.web.guards import LOGIN_PATH, current_staff, posted_form, sign_in


def _safe_next(target: str) -> str:
    # Only paths inside the admin: never another host ("//evil.example" or "https://...").
    if target.startswith("/admin") and not target.startswith("//") and "\\" not in target:
        return target
    return "/admin/"


async def login_page(request: Request) -> Response:
    if request.session.get("staff_id") is not None:
        return RedirectResponse("/admin/", status_code=303)
    next_path = _safe_next(request.query_params.get("next", "/admin/"))
    return render(request, "login.html", next=next_path, email="")


async def login(request: Request) -> Response:
    form = await posted_form(request)
    email = text_field(form, "email", 254)
    password = text_field(form, "password", 1024, strip=False)
    next_path = _safe_next(text_field(form, "next", 2000))
    # The address as uvicorn gives it: the peer, or X-Forwarded-For from a trusted proxy.
    client = request.client.host if request.client is not None else "?"
    outcome = await in_transaction(
        request, authenticate, email=email, password=password, client=client, now=utcnow()
    )
    if outcome.user is None:
        return render(
            request,
            "login.html",
            status_code=400,
            next=next_path,
            email=email,
            error=outcome.message,
        )
    sign_in(request, outcome.user, outcome.session_version)
    return RedirectResponse(next_path, status_code=303)


async def logout(request: Request) -> Response:
    await posted_form(request)
    staff = current_staff(request)

    def work(session: Session) -> None:
        # Every session of this person ends, so a copy of the cookie is worthless too.
        end_sessions(session, staff.id)
        staff.actor.audit(session, "staff.logout")

    await in_transaction(request, work)
    request.session.clear()
    return RedirectResponse(LOGIN_PATH, status_code=303)


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
