"""Every /admin and /api route refuses strangers: proven by walking the whole route table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient

from sms_service.core.audit import CLI_ACTOR
from sms_service.core.db import transaction
from sms_service.core.models import Experiment, StaffUser, utcnow
from sms_service.core.settings import Settings
from sms_service.staff.tokens import create_api_token
from sms_service.surveys.definitions import install_default
from sms_service.web.guards import CSRF_REFUSED, LOGIN_PATH, MAX_FORM_BYTES
from tests.helpers.campaigns import make_campaign
from tests.helpers.people import add_caregiver, add_inbox_text
from tests.helpers.tips import add_probe_tip
from tests.web.admin.conftest import csrf_of

PUBLIC = {("GET", LOGIN_PATH), ("POST", LOGIN_PATH)}
# Outside /admin and /api, each guarding itself: Twilio's signed webhooks, liveness and
# readiness (no data), and /metrics (its bearer token, web/metrics.py).
OUTSIDE_ADMIN_AND_API = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("POST", "/sms/inbound"),
    ("POST", "/sms/status"),
}
_PARAM = re.compile(r"\{[^}]+\}")


def walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) for every endpoint, with path parameters filled in."""
    for route in routes:
        if isinstance(route, Mount):
            if route.routes:
                yield from walk(list(route.routes), prefix + route.path)
            else:  # a mounted app (static files): probe one path inside it
                yield "GET", prefix + route.path + "/admin.css"
        elif isinstance(route, Route):
            path = _PARAM.sub("1", prefix + route.path)
            for method in sorted(route.methods or {"GET"}):
                if method != "HEAD":
                    yield method, path


def test_every_admin_and_api_route_requires_sign_in(web: TestClient) -> None:
    endpoints = sorted(set(walk(list(web.app.routes))))  # type: ignore[attr-defined]
    guarded = [(m, p) for m, p in endpoints if p.startswith(("/admin", "/api"))]
    # The table really contains the admin and the API (a broken walk must not pass silently).
    assert len([p for _, p in guarded if p.startswith("/api/")]) >= 8
    assert len([p for _, p in guarded if p.startswith("/admin/")]) >= 25
    # A stranger with a valid CSRF token (from the login page) is still not signed in.
    csrf = csrf_of(web.get(LOGIN_PATH).text)
    checked = 0
    for method, path in guarded:
        if (method, path) in PUBLIC or path.startswith("/admin/static/"):
            continue
        response = web.request(method, path, follow_redirects=False)
        if path.startswith("/api"):
            assert response.status_code == 401, (method, path)
            assert response.headers["www-authenticate"].startswith("Bearer")
        elif method == "GET":
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith(LOGIN_PATH + "?next=")
        else:
            # Unsafe methods fail the CSRF check before anything else runs ...
            assert response.status_code == 403, (method, path)
            # ... and with a good token, the sign-in check.
            signed = web.request(method, path, data={"csrf_token": csrf}, follow_redirects=False)
            assert signed.status_code == 303, (method, path)
            assert signed.headers["location"].startswith(LOGIN_PATH)
        checked += 1
    assert checked == len(guarded) - len(PUBLIC) - 1


def test_every_route_outside_admin_and_api_is_a_known_one(web: TestClient) -> None:
    endpoints = set(walk(list(web.app.routes)))  # type: ignore[attr-defined]
    outside = {(m, p) for m, p in endpoints if not p.startswith(("/admin", "/api"))}
    assert outside == OUTSIDE_ADMIN_AND_API
    assert web.get("/metrics").status_code in {401, 403}  # never open to a stranger


def test_every_admin_post_checks_the_csrf_token_before_anything_else(
    web: TestClient, admin_csrf: str
) -> None:
    # Signed in as an admin, so only the CSRF check can refuse: a view that forgot to read
    # its form through posted_form would answer something else here.
    unsafe = [
        (m, p)
        for m, p in sorted(set(walk(list(web.app.routes))))  # type: ignore[attr-defined]
        if p.startswith("/admin") and m not in ("GET", "HEAD", "OPTIONS")
    ]
    assert len(unsafe) >= 20
    for method, path in unsafe:
        for attempt in (
            {},
            {"data": {"csrf_token": "guess"}},
            {"data": {"csrf_token": admin_csrf}, "headers": {"X-CSRF-Token": "guess"}},
        ):
            response = web.request(method, path, follow_redirects=False, **attempt)
            assert (response.status_code, response.text) == (403, CSRF_REFUSED), (method, path)
            assert response.headers["x-frame-options"] == "DENY", (method, path)


def test_a_form_too_large_is_refused_signed_in_or_not(web: TestClient, staff_csrf: str) -> None:
    big = {"csrf_token": staff_csrf, "name": "x" * MAX_FORM_BYTES}
    for path in ("/admin/campaigns/new", "/admin/logout"):
        response = web.post(path, data=big, follow_redirects=False)
        assert (response.status_code, response.text) == (413, "Content Too Large"), path
    with TestClient(web.app, base_url="https://testserver") as stranger:
        csrf = csrf_of(stranger.get(LOGIN_PATH).text)
        for path in (LOGIN_PATH, "/admin/campaigns/new"):
            response = stranger.post(path, data={**big, "csrf_token": csrf})
            assert (response.status_code, response.text) == (413, "Content Too Large")


def test_refusals_and_missing_pages_carry_the_security_headers(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        staff_id = session.scalars(select(StaffUser.id)).one()
        token = create_api_token(session, staff_user_id=staff_id, name="t", actor=CLI_ACTOR)
    for response in (
        web.get("/admin/no-such-page"),
        web.post("/admin/campaigns", data={"csrf_token": staff_csrf}),  # GET only: 405
        web.post("/admin/staff", data={"csrf_token": staff_csrf}),  # admins only: 403
        web.post("/admin/logout"),  # no CSRF token: 403
    ):
        assert response.status_code in (403, 404, 405), response.request.url
        assert response.headers["cache-control"] == "no-store", response.request.url
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    bearer = {"Authorization": f"Bearer {token}"}
    for response in (
        web.get("/api/no-such-thing", headers=bearer),
        web.get("/api/no-such-thing"),
        web.delete("/api/stats", headers=bearer),
    ):
        assert response.status_code in (401, 404, 405), response.request.url
        assert response.headers["x-content-type-options"] == "nosniff", response.request.url
        assert response.headers["cache-control"] == "no-store", response.request.url


def test_the_webhooks_and_the_health_check_never_see_sessions(
    web: TestClient, staff_csrf: str
) -> None:
    health = web.get("/healthz")
    assert health.status_code == 200 and "set-cookie" not in health.headers
    assert "cache-control" not in health.headers
    unsigned = web.post("/sms/status", data={"MessageSid": "SM1", "MessageStatus": "sent"})
    assert unsigned.status_code == 403  # Twilio's signature check, not the admin's CSRF check
    assert unsigned.text == "forbidden" and "set-cookie" not in unsigned.headers


def test_public_pieces_are_only_the_login_page_and_the_stylesheet(web: TestClient) -> None:
    assert web.get(LOGIN_PATH).status_code == 200
    assert web.get("/admin/static/admin.css").status_code == 200
    assert web.get("/admin/no-such-page", follow_redirects=False).status_code == 303
    assert web.get("/api/no-such-thing").status_code == 401


def test_a_wrong_or_revoked_token_is_refused(web: TestClient) -> None:
    for header in ("Bearer nope", "Basic abc", "Bearer ", "bearer smt_guess"):
        assert web.get("/api/stats", headers={"Authorization": header}).status_code == 401


def test_every_admin_page_renders_for_an_admin(
    web: TestClient, admin_csrf: str, sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        add_inbox_text(session, add_caregiver(session, child_name="Luna", tags=("clinic",)), "Hi")
        make_campaign(session, settings, times=[datetime(2031, 4, 7, 10)], now=utcnow())
        add_probe_tip(session)  # the tip page's path is probed as /admin/content/tips/1
        install_default(session=session, now=utcnow())  # probed as /admin/surveys/1
        # Probed as /admin/experiments/1.
        session.add(Experiment(id=1, tip_id="1", wording_b="Hello {child}.", share_b=0.5))
    web.post("/admin/account/tokens", data={"csrf_token": admin_csrf, "name": "t"})
    pages = [
        path
        for method, path in sorted(set(walk(list(web.app.routes))))  # type: ignore[attr-defined]
        if method == "GET" and path.startswith("/admin") and path != LOGIN_PATH
    ]
    assert len(pages) >= 12
    for path in pages:
        response = web.get(path)
        assert response.status_code == 200, (path, response.text[:300])
