from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, StaffUser, utcnow
from sms_service.staff.signin import FREE_ATTEMPTS, lock_duration
from tests.helpers.people import PASSWORD, add_staff
from tests.web.admin.conftest import csrf_of, sign_in


def _try(web: TestClient, email: str, password: str) -> int:
    page = web.get("/admin/login")
    response = web.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    return response.status_code


def test_sign_in_sets_a_hardened_cookie_and_sign_out_ends_it(
    web: TestClient, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        add_staff(session, "sam@example.org")
    page = web.get("/admin/login")
    response = web.post(
        "/admin/login",
        data={
            "email": "SAM@example.org ",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "/admin/campaigns",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/campaigns"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" in cookie  # PUBLIC_BASE_URL is https in the test settings
    csrf = csrf_of(web.get("/admin/campaigns").text)
    assert (
        web.post("/admin/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code
        == 303
    )
    assert web.get("/admin/campaigns", follow_redirects=False).status_code == 303
    with sessions() as session:
        actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[-2:] == ["staff.login", "staff.logout"]


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(
    web: TestClient, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        add_staff(session, "sam@example.org")
    unknown = web.post(
        "/admin/login",
        data={
            "email": "nobody@example.org",
            "password": "x",
            "csrf_token": csrf_of(web.get("/admin/login").text),
        },
    )
    wrong = web.post(
        "/admin/login",
        data={
            "email": "sam@example.org",
            "password": "x",
            "csrf_token": csrf_of(web.get("/admin/login").text),
        },
    )
    assert unknown.status_code == wrong.status_code == 400
    assert "do not match an account" in unknown.text and "do not match an account" in wrong.text
    assert web.get("/admin/campaigns", follow_redirects=False).status_code == 303


def test_repeated_failures_lock_the_account_with_growing_back_off(
    web: TestClient, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        add_staff(session, "sam@example.org")
    for _ in range(FREE_ATTEMPTS):
        assert _try(web, "sam@example.org", "wrong password!") == 400
    # Locked now: even the right password is refused until the lock runs out.
    page = web.get("/admin/login")
    refused = web.post(
        "/admin/login",
        data={"email": "sam@example.org", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert refused.status_code == 400 and "Too many failed sign-ins" in refused.text
    with transaction(sessions) as session:
        user = session.scalars(select(StaffUser)).one()
        assert user.failed_logins == FREE_ATTEMPTS
        assert user.locked_until is not None and user.locked_until > utcnow()
        user.locked_until = utcnow() - timedelta(seconds=1)  # the minute has passed
    assert _try(web, "sam@example.org", "wrong again!") == 400
    with sessions() as session:
        user = session.scalars(select(StaffUser)).one()
        assert user.locked_until is not None
        assert user.locked_until - utcnow() > timedelta(seconds=90)  # 2 minutes this time
    with transaction(sessions) as session:
        session.scalars(select(StaffUser)).one().locked_until = None
    assert _try(web, "sam@example.org", PASSWORD) == 303
    with sessions() as session:
        user = session.scalars(select(StaffUser)).one()
        assert (user.failed_logins, user.locked_until) == (0, None)
        actions = set(session.scalars(select(AuditLog.action)))
    assert {"staff.login_failed", "staff.login_locked", "staff.login"} <= actions


def test_back_off_doubles_and_is_capped() -> None:
    assert lock_duration(FREE_ATTEMPTS - 1) is None
    assert lock_duration(FREE_ATTEMPTS) == timedelta(minutes=1)
    assert lock_duration(FREE_ATTEMPTS + 3) == timedelta(minutes=8)
    assert lock_duration(FREE_ATTEMPTS + 40) == timedelta(hours=1)


def test_posts_without_the_csrf_token_are_rejected(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    form = {
        "name": "Forged",
        "send_at_0": "2030-01-01T10:00",
        "text_en_0": "Hi",
        "text_es_0": "Hola",
    }
    missing = web.post("/admin/campaigns/new", data=form)
    forged = web.post("/admin/campaigns/new", data={**form, "csrf_token": "guess"})
    assert missing.status_code == forged.status_code == 403
    assert web.post("/admin/logout", follow_redirects=False).status_code == 403
    with sessions() as session:
        assert (
            session.scalars(
                select(AuditLog.action).where(AuditLog.action == "campaign.create")
            ).all()
            == []
        )
    # The login form itself is protected too (login CSRF).
    with TestClient(web.app, base_url="https://testserver") as fresh:
        assert (
            fresh.post("/admin/login", data={"email": "a@b.org", "password": "x"}).status_code
            == 403
        )


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/sms/inbound"])
def test_sign_in_never_redirects_off_the_admin(
    web: TestClient, sessions: sessionmaker[Session], target: str
) -> None:
    with transaction(sessions) as session:
        add_staff(session, "sam@example.org")
    page = web.get("/admin/login")
    response = web.post(
        "/admin/login",
        data={
            "email": "sam@example.org",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": target,
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/admin/"


def test_a_deactivated_account_loses_its_session(
    web: TestClient, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        add_staff(session, "sam@example.org")
    sign_in(web, "sam@example.org")
    with transaction(sessions) as session:
        session.scalars(select(StaffUser)).one().is_active = False
    assert web.get("/admin/campaigns", follow_redirects=False).status_code == 303
