"""Staff sign-in: passwords with lockout, signed session cookies, CSRF tokens, API bearer tokens.

`StaffAccessMiddleware` guards every path under /admin and /api (except the login page and
the stylesheet): nothing there runs without a signed-in, active staff member. The Twilio
webhooks under /sms never see sessions or CSRF checks.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sms_service.core.audit import Actor
from sms_service.core.db import transaction
from sms_service.core.models import ApiToken, StaffUser, utcnow
from sms_service.core.settings import Settings
from sms_service.staff.accounts import record_audit
from sms_service.staff.passwords import hash_password, needs_rehash, verify_password
from sms_service.web.context import app_context

logger = logging.getLogger(__name__)

SESSION_COOKIE = "sms_tips_staff"
SESSION_MAX_AGE = 8 * 60 * 60  # a working day; the signature carries the time it was issued
LOGIN_PATH = "/admin/login"
PUBLIC_PATHS = frozenset({LOGIN_PATH})
PUBLIC_PREFIXES = ("/admin/static/",)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_FORM_BYTES = 1_000_000

# Pages full of personal data: never cached, never framed, no script or style from elsewhere.
ADMIN_HEADERS = (
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
API_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"))

# Lockout: after FREE_ATTEMPTS wrong passwords, each further failure locks the account for twice
# as long as the last one (1, 2, 4 ... minutes), never more than MAX_LOCK.
FREE_ATTEMPTS = 5
FIRST_LOCK = timedelta(minutes=1)
MAX_LOCK = timedelta(hours=1)

API_TOKEN_PREFIX = "smt_"

# Verifying against a real hash when the email is unknown keeps both answers equally slow.
_DUMMY_HASH = hash_password("not-a-real-password-just-for-timing")


@dataclass(frozen=True)
class StaffIdentity:
    """Who is making this request, as the admin and API see them."""

    id: int
    email: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> Actor:
        """This person as the author of audited actions."""
        return Actor(name=self.email, staff_user_id=self.id, role=self.role)


@dataclass(frozen=True)
class LoginOutcome:
    """The answer to a sign-in attempt: the user, or the message to show."""

    user: StaffIdentity | None
    message: str = ""


def lock_duration(failed_logins: int) -> timedelta | None:
    """How long the account locks after this many consecutive failures (None: not locked)."""
    if failed_logins < FREE_ATTEMPTS:
        return None
    lock: timedelta = FIRST_LOCK * 2 ** min(failed_logins - FREE_ATTEMPTS, 12)
    return min(lock, MAX_LOCK)


def authenticate(session: Session, *, email: str, password: str, now: datetime) -> LoginOutcome:
    """Check a sign-in attempt, counting failures and locking with back-off; the caller commits."""
    email = email.strip().lower()[:254]
    # Locked for the transaction: two wrong passwords at once must both be counted.
    user = session.scalar(select(StaffUser).where(StaffUser.email == email).with_for_update())
    refused = LoginOutcome(None, "That email and password do not match an account.")
    if user is None or not user.is_active:
        verify_password(_DUMMY_HASH, password)
        record_audit(session, actor=email or "?", action="staff.login_refused")
        return refused
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        record_audit(session, actor=email, action="staff.login_locked", target=user)
        return LoginOutcome(None, f"Too many failed sign-ins. Try again in {minutes} minute(s).")
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        lock = lock_duration(user.failed_logins)
        detail: dict[str, Any] = {"failed_logins": user.failed_logins}
        if lock is not None:
            user.locked_until = now + lock
            detail["locked_minutes"] = lock.total_seconds() / 60
            logger.warning("staff account %s locked after %s failures", user.id, user.failed_logins)
        record_audit(session, actor=email, action="staff.login_failed", target=user, detail=detail)
        return refused
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record_audit(session, actor=email, action="staff.login", target=user, staff_user_id=user.id)
    return LoginOutcome(StaffIdentity(user.id, user.email, user.role))


def load_staff(session: Session, staff_id: int) -> StaffIdentity | None:
    """The active staff member with this id, if any."""
    user = session.get(StaffUser, staff_id)
    if user is None or not user.is_active:
        return None
    return StaffIdentity(user.id, user.email, user.role)


def token_hash(token: str) -> str:
    """What is stored for an API token: its SHA-256 (tokens are long random strings)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(session: Session, *, staff_user_id: int, name: str, actor: str) -> str:
    """Make a new API token for a staff member and return it; only its hash is kept."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        staff_user_id=staff_user_id, name=name.strip()[:80] or "token", token_hash=token_hash(token)
    )
    session.add(row)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="api_token.create",
        target=row,
        detail={"staff_user_id": staff_user_id, "name": row.name},
    )
    return token


def staff_for_token(session: Session, token: str, *, now: datetime) -> StaffIdentity | None:
    """The staff member an unrevoked API token belongs to, if any."""
    row = session.execute(
        select(ApiToken, StaffUser)
        .join(StaffUser, StaffUser.id == ApiToken.staff_user_id)
        .where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or not row.StaffUser.is_active:
        return None
    api_token, user = row.ApiToken, row.StaffUser
    # One write a minute is enough to show which tokens are still in use.
    if api_token.last_used_at is None or now - api_token.last_used_at > timedelta(minutes=1):
        api_token.last_used_at = now
    return StaffIdentity(user.id, user.email, user.role)


def csrf_token(request: HTTPConnection) -> str:
    """This session's CSRF token, made on first use; every admin form posts it back."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def sign_in(request: Request, user: StaffIdentity) -> None:
    """Start a fresh session for `user` (a new CSRF token too, so an old one cannot be reused)."""
    request.session.clear()
    request.session["staff_id"] = user.id
    csrf_token(request)


def current_staff(request: HTTPConnection) -> StaffIdentity:
    """The signed-in staff member (the middleware guarantees there is one)."""
    staff: StaffIdentity = request.state.staff
    return staff


def require_admin(request: HTTPConnection) -> StaffIdentity:
    """The signed-in staff member, who must be an admin (403 otherwise)."""
    staff = current_staff(request)
    if not staff.is_admin:
        raise HTTPException(403, "Only admins can do this.")
    return staff


Endpoint = Callable[[Scope, Receive, Send], Awaitable[None]]


class StaffAccessMiddleware:
    """Require a signed-in staff member on /admin (session + CSRF) and a bearer token on /api."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.admin = SessionMiddleware(
            self._admin,
            secret_key=settings.secret_key,
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            path="/admin",
            same_site="lax",
            https_only=settings.public_base_url.startswith("https://"),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if _under(path, "/api"):
            await self._api(scope, receive, _with_headers(send, API_HEADERS))
        elif _under(path, "/admin"):
            await self.admin(scope, receive, _with_headers(send, ADMIN_HEADERS))
        else:
            await self.app(scope, receive, send)

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = HTTPConnection(scope)
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        staff = None
        if scheme.lower() == "bearer" and token.strip():
            staff = await run_in_threadpool(
                _staff_for_token, app_context(connection).sessions, token.strip()
            )
        if staff is None:
            response: Response = JSONResponse(
                {"error": "unauthorized", "message": "send Authorization: Bearer <API token>"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="sms-tips"'},
            )
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["staff"] = staff
        await self.app(scope, receive, send)

    async def _admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = HTTPConnection(scope)
        path: str = scope["path"]
        if scope["method"] not in SAFE_METHODS:
            body = await _read_body(receive)
            if body is None:
                await PlainTextResponse("The form is too large.", 413)(scope, receive, send)
                return
            receive = _replay(body)
            if not await _csrf_ok(scope, body, connection):
                logger.warning("CSRF check failed on %s %s", scope["method"], path)
                response = PlainTextResponse(
                    "This form has expired or did not come from this site. Go back, reload the "
                    "page and try again.",
                    403,
                )
                await response(scope, receive, send)
                return
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        staff_id = connection.session.get("staff_id")
        staff = None
        if isinstance(staff_id, int):
            staff = await run_in_threadpool(_load_staff, app_context(connection).sessions, staff_id)
        if staff is None:
            connection.session.pop("staff_id", None)
            target = path + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
            location = f"{LOGIN_PATH}?next={quote(target, safe='')}"
            await RedirectResponse(location, status_code=303)(scope, receive, send)
            return
        scope.setdefault("state", {})["staff"] = staff
        await self.app(scope, receive, send)


def _with_headers(send: Send, headers: tuple[tuple[bytes, bytes], ...]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *headers]
        await send(message)

    return sending


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _load_staff(sessions: sessionmaker[Session], staff_id: int) -> StaffIdentity | None:
    with sessions() as session:
        return load_staff(session, staff_id)


def _staff_for_token(sessions: sessionmaker[Session], token: str) -> StaffIdentity | None:
    with transaction(sessions) as session:
        return staff_for_token(session, token, now=utcnow())


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _csrf_ok(scope: Scope, body: bytes, connection: HTTPConnection) -> bool:
    expected = connection.session.get("csrf")
    if not isinstance(expected, str):
        return False
    given = connection.headers.get(CSRF_HEADER)
    if given is None:
        request = Request(scope, _replay(body))
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            async with request.form() as form:
                value = form.get(CSRF_FIELD)
                given = value if isinstance(value, str) else None
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
