"""Every /admin and /api route refuses strangers: proven by walking the whole route table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient

from sms_service.core.db import transaction
from sms_service.core.models import utcnow
from sms_service.core.settings import Settings
from sms_service.web.guards import LOGIN_PATH
from tests.helpers.campaigns import make_campaign
from tests.helpers.people import add_caregiver
from tests.web.admin.conftest import csrf_of

PUBLIC = {("GET", LOGIN_PATH), ("POST", LOGIN_PATH)}
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
        add_caregiver(session, child_name="Luna", tags=("clinic",))
        make_campaign(session, settings, times=[datetime(2031, 4, 7, 10)], now=utcnow())
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
