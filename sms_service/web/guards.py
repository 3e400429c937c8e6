"""The guards of /admin and /api, set as each Mount's middleware in the route table.

/admin: a signed session cookie, a signed-in active staff member (except on the login page and
the static files) and a CSRF token on every form post, checked where the view reads its form
(`posted_form`). /api: a bearer token. Both add security headers; the /sms webhooks and /healthz
are mounted without any of it.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send

from sms_service.core.errors import NotFound
from sms_service.core.models import utcnow
from sms_service.core.settings import Settings
from sms_service.inbox.items import open_count
from sms_service.staff.signin import StaffIdentity, load_staff
from sms_service.staff.tokens import record_token_use, token_holder
from sms_service.web.context import in_read_transaction, in_transaction

logger = logging.getLogger(__name__)

SESSION_COOKIE = "sms_tips_staff"
SESSION_MAX_AGE = 8 * 60 * 60  # a working day; the signature carries the time it was issued
LOGIN_PATH = "/admin/login"
PUBLIC_PATHS = frozenset({LOGIN_PATH})
PUBLIC_PREFIXES = ("/admin/static/",)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CSRF_REFUSED = (
    "This form has expired or did not come from this site. Go back, reload the page and try again."
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Request bodies are refused (413) past these sizes, before they are read into memory.
MAX_FORM_BYTES = 1_000_000
MAX_API_BYTES = 100_000

Headers = Sequence[tuple[bytes, bytes]]
# Pages full of personal data: never cached, never framed, no script or style from elsewhere.
ADMIN_HEADERS: Headers = (
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; "
        b"base-uri 'none'; object-src 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)
API_HEADERS: Headers = ((b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"))


class SecurityHeaders:
    """Add `headers` to every response."""

    def __init__(self, app: ASGIApp, headers: Headers) -> None:
        self.app = app
        self.headers = list(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, sending)


class AdminGuard:
    """Let a request in only for a signed-in, active staff member (the login page and the
    static files are open)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        staff_id = request.session.get("staff_id")
        version = request.session.get("session_version")
        staff, waiting = None, 0
        if isinstance(staff_id, int) and isinstance(version, int):
            # A cookie of an ended session (signed out, deactivated, new password) carries an
            # older version than the account's: refused here, however well it is signed.
            staff, waiting = await in_read_transaction(request, _visitor, staff_id, version)
        if staff is None:
            if request.method not in SAFE_METHODS:
                # The view will not run, so its form is read here: a forged post is refused as
                # such (403, or 413) before anyone is asked to sign in.
                await posted_form(request)
            request.session.pop("staff_id", None)
            target = path + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
            location = f"{LOGIN_PATH}?next={quote(target, safe='')}"
            await RedirectResponse(location, status_code=303)(scope, receive, send)
            return
        scope.setdefault("state", {}).update(staff=staff, inbox_waiting=waiting)
        await self.app(scope, receive, send)


def _visitor(session: Session, staff_id: int, version: int) -> tuple[StaffIdentity | None, int]:
    """Who is signed in, and how many family texts wait in the inbox (every page shows it)."""
    staff = load_staff(session, staff_id, version)
    return staff, open_count(session, scope=staff.scope) if staff is not None else 0


class BearerGuard:
    """Let a request in only with the bearer token of an active staff member (401 otherwise)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        holder, now = None, utcnow()
        if scheme.lower() == "bearer" and token.strip():
            holder = await in_read_transaction(connection, token_holder, token.strip(), now=now)
        if holder is None:
            response = JSONResponse(
                {"error": "unauthorized", "message": "send Authorization: Bearer <API token>"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="sms-tips"'},
            )
            await response(scope, receive, send)
            return
        if holder.record_use:
            await in_transaction(connection, record_token_use, token_id=holder.token_id, now=now)
        scope.setdefault("state", {})["staff"] = holder.staff
        await self.app(scope, receive, send)


class AdminOnly(HTTPException):
    """A page or action only admins may use (the admin mount answers it with a page)."""


def admin_middleware(
    settings: Settings, *, handlers: Mapping[Any, ExceptionHandler] | None = None
) -> list[Middleware]:
    """What stands between the outside and every /admin route, outermost first; `handlers`
    answer the refusals the views raise (an AdminOnly as a page with the navigation)."""
    return [
        Middleware(SecurityHeaders, headers=ADMIN_HEADERS),
        # Cut off as it streams in, before anything (the guard's CSRF check too) reads it.
        Middleware(RequestBodyLimitMiddleware, max_body_size=MAX_FORM_BYTES),
        Middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            path="/admin",
            same_site="lax",
            https_only=settings.public_base_url.startswith("https://"),
        ),
        # Refusals, 404s and 405s are answered inside the mount, so they carry its headers too
        # (with Starlette's default handlers: the app registers none of its own).
        Middleware(ExceptionMiddleware, handlers=dict(handlers or {})),
        Middleware(AdminGuard),
    ]


async def _api_not_found(request: Request, exc: Exception) -> JSONResponse:
    """No such record, or one outside the token's scope: the same 404 either way."""
    return JSONResponse({"error": str(exc)}, status_code=404)


# What stands between the outside and every /api route, outermost first.
API_MIDDLEWARE = [
    Middleware(SecurityHeaders, headers=API_HEADERS),
    Middleware(RequestBodyLimitMiddleware, max_body_size=MAX_API_BYTES),
    Middleware(ExceptionMiddleware, handlers={NotFound: _api_not_found}),
    Middleware(BearerGuard),
]


async def posted_form(request: Request, *, max_files: int = 0) -> FormData:
    """The form of an admin post, read once; 403 unless it carries this session's CSRF token
    (the field, or the X-CSRF-Token header that fetch requests send). Only a view that says
    so takes files (`max_files`), and closes the form when it has read them."""
    form = await request.form(max_files=max_files)
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        field = form.get(CSRF_FIELD)
        given = field if isinstance(field, str) else None
    expected = request.session.get("csrf")
    if (
        given is None
        or not isinstance(expected, str)
        or not hmac.compare_digest(given.encode(), expected.encode())
    ):
        logger.warning("CSRF check failed on %s %s", request.method, request.url.path)
        raise HTTPException(403, CSRF_REFUSED)
    return form


def csrf_token(request: HTTPConnection) -> str:
    """This session's CSRF token, made on first use; every admin form posts it back."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def sign_in(request: Request, user: StaffIdentity, session_version: int) -> None:
    """Start a fresh session for `user` (a new CSRF token too, so an old one cannot be reused),
    valid while their account's session version stays `session_version`."""
    request.session.clear()
    request.session["staff_id"] = user.id
    request.session["session_version"] = session_version
    csrf_token(request)


def current_staff(request: HTTPConnection) -> StaffIdentity:
    """The signed-in staff member (the mount's guard lets no one else in)."""
    staff: StaffIdentity = request.state.staff
    return staff


def require_admin(request: HTTPConnection) -> StaffIdentity:
    """The signed-in staff member, who must be an admin (403 otherwise)."""
    staff = current_staff(request)
    if not staff.is_admin:
        raise AdminOnly(403, "Only admins can open this page or do this.")
    return staff


def require_network_admin(request: HTTPConnection) -> StaffIdentity:
    """The signed-in staff member, who must be an admin of the whole network (403 otherwise):
    content, partners, approvals and the audit log are the network's."""
    staff = current_staff(request)
    if not staff.is_network_admin:
        raise AdminOnly(403, "Only network admins can open this page or do this.")
    return staff


def require_message_author(request: HTTPConnection) -> StaffIdentity:
    """The signed-in staff member, who may write campaigns: the network's own staff, or a
    partner's admin (local messages); a partner's staff answer families but send nothing."""
    staff = current_staff(request)
    if not staff.writes_campaigns:
        raise AdminOnly(403, "Only your partner's admins write local messages.")
    return staff


def require_network_staff(request: HTTPConnection) -> StaffIdentity:
    """The signed-in staff member, who must be the network's own (admin or staff; 403 for a
    partner's): what reaches every partner's families, such as surveys, is the network's."""
    staff = current_staff(request)
    if not staff.scope.is_network:
        raise AdminOnly(403, "Only the network's own staff can do this.")
    return staff
