from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, StaffUser, utcnow
from sms_service.staff.accounts import set_password
from sms_service.staff.signin import FREE_ATTEMPTS, REFUSED, lock_duration
from sms_service.web.guards import SESSION_COOKIE
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
    assert REFUSED in unknown.text and REFUSED in wrong.text
    assert web.get("/admin/campaigns", follow_redirects=False).status_code == 303


def _client(app: Starlette, address: str) -> TestClient:
    return TestClient(app, base_url="https://testserver", client=(address, 40000))


def test_repeated_failures_throttle_that_address_with_growing_back_off(
    app: Starlette, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        add_staff(session, "sam@example.org")
    with _client(app, "203.0.113.9") as attacker:
        for _ in range(FREE_ATTEMPTS):
            assert _try(attacker, "sam@example.org", "wrong password!") == 400
        # Refused from here now: even the right password, until the wait runs out.
        assert _try(attacker, "sam@example.org", PASSWORD) == 400
        with transaction(sessions) as session:
            user = session.scalars(select(StaffUser)).one()
            entry = user.signin_throttle["203.0.113.9"]
            assert entry["failures"] == FREE_ATTEMPTS
            until = datetime.fromisoformat(entry["locked_until"])
            assert until - utcnow() > timedelta(seconds=50)
            # The minute has passed.
            passed = (utcnow() - timedelta(seconds=1)).isoformat()
            user.signin_throttle = {"203.0.113.9": {**entry, "locked_until": passed}}
        assert _try(attacker, "sam@example.org", "wrong again!") == 400
        with sessions() as session:
            entry = session.scalars(select(StaffUser)).one().signin_throttle["203.0.113.9"]
            assert entry["failures"] == FREE_ATTEMPTS + 1
            until = datetime.fromisoformat(entry["locked_until"])
            assert until - utcnow() > timedelta(seconds=90)  # 2 minutes this time
        # Guessing while refused is not counted: it does not make the wait longer.
        for _ in range(3):
            assert _try(attacker, "sam@example.org", "and again!") == 400
        with sessions() as session:
            entry = session.scalars(select(StaffUser)).one().signin_throttle["203.0.113.9"]
            assert entry["failures"] == FREE_ATTEMPTS + 1
            assert datetime.fromisoformat(entry["locked_until"]) == until
        with transaction(sessions) as session:
            session.scalars(select(StaffUser)).one().signin_throttle = {}
        assert _try(attacker, "sam@example.org", PASSWORD) == 303
    with sessions() as session:
        user = session.scalars(select(StaffUser)).one()
        assert (user.failed_logins, user.signin_throttle) == (0, {})
        actions = set(session.scalars(select(AuditLog.action)))
    assert {"staff.login_failed", "staff.login_locked", "staff.login"} <= actions


def test_the_owner_signs_in_from_elsewhere_while_someone_keeps_guessing(
    app: Starlette, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        add_staff(session, "sam@example.org")
    with _client(app, "203.0.113.9") as attacker, _client(app, "198.51.100.7") as owner:
        for round_ in range(3):
            for _ in range(FREE_ATTEMPTS + 2):
                assert _try(attacker, "sam@example.org", f"guess {round_}") == 400
            assert _try(owner, "sam@example.org", PASSWORD) == 303
            assert owner.get("/admin/campaigns", follow_redirects=False).status_code == 200
            owner.cookies.clear()
        # And the guesser is still refused, even with the right password.
        assert _try(attacker, "sam@example.org", PASSWORD) == 400


def test_unknown_email_wrong_password_and_refused_answer_alike_and_as_slowly(
    app: Starlette, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        add_staff(session, "sam@example.org")
        add_staff(session, "locked@example.org")
        gone = add_staff(session, "gone@example.org")
        session.get_one(StaffUser, gone).is_active = False
    with _client(app, "203.0.113.9") as client:
        for _ in range(FREE_ATTEMPTS):
            assert _try(client, "locked@example.org", "wrong password!") == 400
        cases = {
            "unknown": ("nobody@example.org", "wrong password!"),
            "wrong": ("sam@example.org", "wrong password!"),
            "locked": ("locked@example.org", "wrong password!"),
            "locked, right password": ("locked@example.org", PASSWORD),
            "deactivated": ("gone@example.org", PASSWORD),
        }
        pages: dict[str, str] = {}
        timings: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(4):
            for name, (email, password) in cases.items():
                page = client.get("/admin/login")
                form = {"email": email, "password": password, "csrf_token": csrf_of(page.text)}
                started = time.perf_counter()
                response = client.post("/admin/login", data=form, follow_redirects=False)
                timings[name].append(time.perf_counter() - started)
                assert response.status_code == 400, name
                # The page echoes the email typed; everything else must be the same.
                pages[name] = response.text.replace(email, "EMAIL").replace(
                    csrf_of(response.text), "CSRF"
                )
    assert len(set(pages.values())) == 1, "the refusals differ"
    assert REFUSED in pages["unknown"]
    # The fastest of each: a machine's hiccups only ever add time, while a refusal that skips
    # (or doubles) the password hash is that much faster (or slower) every time.
    fastest = {name: min(times[1:]) for name, times in timings.items()}
    reference = fastest["wrong"]
    print({name: f"{least * 1000:.0f} ms" for name, least in fastest.items()})
    for name, least in fastest.items():
        shown = f"{name}: {least * 1000:.1f} ms vs {reference * 1000:.1f}"
        assert 0.5 < least / reference < 2, shown


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


def _copied_session(web: TestClient) -> TestClient:
    """Another client holding a copy of `web`'s session cookie, as a thief would."""
    copy = TestClient(web.app, base_url="https://testserver")
    copy.cookies.set(SESSION_COOKIE, web.cookies[SESSION_COOKIE], domain="testserver.local")
    return copy


def _shut_out(client: TestClient) -> bool:
    response = client.get("/admin/caregivers", follow_redirects=False)
    return response.status_code == 303 and response.headers["location"].startswith("/admin/login")


def test_signing_out_ends_the_session_on_the_server_too(
    web: TestClient, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        add_staff(session, "sam@example.org")
    csrf = sign_in(web, "sam@example.org")
    with _client(web.app, "198.51.100.7") as laptop:
        sign_in(laptop, "sam@example.org")
        with _copied_session(web) as copy:
            assert copy.get("/admin/caregivers", follow_redirects=False).status_code == 200
            web.post("/admin/logout", data={"csrf_token": csrf}, follow_redirects=False)
            assert _shut_out(copy)
        # Signing out ends every session of that person, on every device.
        assert _shut_out(laptop)
    sign_in(web, "sam@example.org")
    assert web.get("/admin/caregivers", follow_redirects=False).status_code == 200


def test_deactivating_ends_the_sessions_for_good(
    web: TestClient, admin_csrf: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        sam = add_staff(session, "sam@example.org")
    with _client(web.app, "198.51.100.7") as other:
        sign_in(other, "sam@example.org")
        with _copied_session(other) as copy:
            response = web.post(
                f"/admin/staff/{sam}/deactivate",
                data={"csrf_token": admin_csrf},
                follow_redirects=False,
            )
            assert response.status_code == 303
            assert _shut_out(copy)
            # Reactivated, the account must sign in again: the old cookie stays dead.
            web.post(f"/admin/staff/{sam}/activate", data={"csrf_token": admin_csrf})
            assert _shut_out(copy)
        assert _shut_out(other)


def test_a_new_password_ends_the_sessions(web: TestClient, sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        add_staff(session, "sam@example.org")
    sign_in(web, "sam@example.org")
    with _copied_session(web) as copy:
        with transaction(sessions) as session:
            set_password(session, email="sam@example.org", password="a brand new passphrase")
        assert _shut_out(copy)
    assert _shut_out(web)
    assert _try(web, "sam@example.org", PASSWORD) == 400
    sign_in(web, "sam@example.org", "a brand new passphrase")
