"""Staff change their own password (other sessions end), copy a new token, and meet a page,
not plain text, where only admins may go."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from sms_service.core.models import AuditLog, StaffUser
from sms_service.staff.passwords import verify_password
from tests.helpers.people import PASSWORD
from tests.web.admin.conftest import sign_in

NEW = "a much longer new passphrase"


def _change(web: TestClient, csrf: str, current: str, new: str, again: str) -> str:
    response = web.post(
        "/admin/account/password",
        data={
            "csrf_token": csrf,
            "current_password": current,
            "new_password": new,
            "new_password_again": again,
        },
    )
    assert response.status_code == 200
    return response.text


def test_a_password_change_keeps_this_session_and_ends_the_others(
    web: TestClient, staff_csrf: str, app: Starlette, sessions: sessionmaker[Session]
) -> None:
    with TestClient(app, base_url="https://testserver") as other:
        sign_in(other, "sam@example.org")
        assert "Wrong" not in _change(web, staff_csrf, "not it at all!", NEW, NEW)
        assert other.get("/admin/", follow_redirects=False).status_code == 200  # unchanged
        page = _change(web, staff_csrf, PASSWORD, NEW, NEW)
        assert "Your password is changed" in page
        assert web.get("/admin/account").status_code == 200  # this session goes on
        assert other.get("/admin/", follow_redirects=False).status_code == 303  # signed out
    with sessions() as session:
        user = session.scalars(select(StaffUser)).one()
        assert verify_password(user.password_hash, NEW)
        actions = session.scalars(select(AuditLog.action)).all()
    assert "staff.password_change_refused" in actions and "staff.password_change" in actions


def test_refused_changes_say_why_and_change_nothing(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    assert "current password is not right" in _change(web, staff_csrf, "wrong", NEW, NEW)
    assert "are not the same" in _change(web, staff_csrf, PASSWORD, NEW, NEW + "x")
    assert "at least 12 characters" in _change(web, staff_csrf, PASSWORD, "short", "short")
    with sessions() as session:
        user = session.scalars(select(StaffUser)).one()
        assert verify_password(user.password_hash, PASSWORD)


def test_a_new_token_has_a_copy_button(web: TestClient, staff_csrf: str) -> None:
    page = web.post("/admin/account/tokens", data={"csrf_token": staff_csrf, "name": "report"})
    assert 'data-copy="new-token"' in page.text and "Copy the token" in page.text
    assert "Copy the token" not in web.get("/admin/account").text  # shown once


def test_staff_see_a_page_with_the_navigation_where_only_admins_may_go(
    web: TestClient, staff_csrf: str
) -> None:
    refused = web.get("/admin/staff")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "<h1>Admins only</h1>" in refused.text and 'href="/admin/inbox"' in refused.text
    assert "sam@example.org" in refused.text
