from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from sms_service.core.db import transaction
from sms_service.core.models import ApiToken, AuditLog, StaffUser
from sms_service.staff.signin import FREE_ATTEMPTS
from tests.helpers.people import PASSWORD, add_staff
from tests.web.admin.conftest import csrf_of, sign_in


def test_admins_manage_accounts_and_staff_cannot(
    web: TestClient, admin_csrf: str, sessions: sessionmaker[Session]
) -> None:
    added = web.post(
        "/admin/staff",
        data={
            "csrf_token": admin_csrf,
            "email": "Sam@Example.org",
            "role": "staff",
            "password": PASSWORD,
        },
    )
    assert "Created network staff account sam@example.org" in added.text
    short = web.post(
        "/admin/staff",
        data={
            "csrf_token": admin_csrf,
            "email": "x@example.org",
            "role": "staff",
            "password": "short",
        },
    )
    assert "at least 12" in short.text
    with sessions() as s:
        sam = s.scalars(select(StaffUser).where(StaffUser.email == "sam@example.org")).one()
    web.post(f"/admin/staff/{sam.id}/deactivate", data={"csrf_token": admin_csrf})
    with sessions() as s:
        assert s.get(StaffUser, sam.id).is_active is False  # type: ignore[union-attr]
        entries = s.execute(select(AuditLog.actor, AuditLog.action, AuditLog.target_id)).all()
    assert ("ada@example.org", "staff.create", str(sam.id)) in entries
    assert ("ada@example.org", "staff.deactivate", str(sam.id)) in entries
    web.post(f"/admin/staff/{sam.id}/activate", data={"csrf_token": admin_csrf})

    staff_csrf = sign_in(web, "sam@example.org")
    assert web.get("/admin/staff").status_code == 403
    for path in ("/admin/staff", f"/admin/staff/{sam.id}/unlock"):
        response = web.post(
            path,
            data={
                "csrf_token": staff_csrf,
                "email": "m@example.org",
                "role": "admin",
                "password": PASSWORD,
            },
        )
        assert response.status_code == 403
    assert "Staff</a>" not in web.get("/admin/").text  # no link to what they cannot open
    with sessions() as s:
        assert s.scalar(select(StaffUser).where(StaffUser.email == "m@example.org")) is None


def test_api_tokens_are_shown_once_and_revocable(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    page = web.post("/admin/account/tokens", data={"csrf_token": staff_csrf, "name": "reports"})
    match = re.search(r'<code id="new-token">(smt_[^<]+)</code>', page.text)
    assert match is not None
    token = match.group(1)
    assert "new-token" not in web.get("/admin/account").text  # shown once only
    with sessions() as s:
        row = s.scalars(select(ApiToken)).one()
        assert token not in row.token_hash and len(row.token_hash) == 64
    headers = {"Authorization": f"Bearer {token}"}
    assert web.get("/api/stats", headers=headers).status_code == 200
    web.post(f"/admin/account/tokens/{row.id}/revoke", data={"csrf_token": staff_csrf})
    assert web.get("/api/stats", headers=headers).status_code == 401


def test_admin_pages_are_not_cached_framed_or_open_to_foreign_scripts(
    web: TestClient, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as s:
        add_staff(s, "sam@example.org")
    for response in (web.get("/admin/login"), web.get("/admin/campaigns")):
        headers = response.headers
        assert headers["cache-control"] == "no-store"
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "default-src 'self'" in headers["content-security-policy"]
    assert web.get("/healthz").headers.get("content-security-policy") is None


def test_the_staff_page_shows_refused_addresses_and_unlock_clears_them(
    app: Starlette, web: TestClient, admin_csrf: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as s:
        sam = add_staff(s, "sam@example.org")
    with TestClient(app, base_url="https://testserver", client=("203.0.113.9", 1)) as guesser:
        for _ in range(FREE_ATTEMPTS):
            page = guesser.get("/admin/login")
            form = {
                "email": "sam@example.org",
                "password": "wrong!",
                "csrf_token": csrf_of(page.text),
            }
            assert guesser.post("/admin/login", data=form).status_code == 400
    assert "refusing 1 address(es)" in web.get("/admin/staff").text
    web.post(f"/admin/staff/{sam}/unlock", data={"csrf_token": admin_csrf})
    assert "refusing" not in web.get("/admin/staff").text
    with sessions() as s:
        user = s.get_one(StaffUser, sam)
        assert (user.failed_logins, user.signin_throttle) == (0, {})
