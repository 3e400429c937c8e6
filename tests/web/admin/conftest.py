"""Admin fixtures: an https test client (the session cookie is Secure) and signed-in staff."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from sms_service.core.db import transaction
from tests.helpers.people import PASSWORD, add_staff

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = _CSRF.search(html)
    assert match is not None, "the page has no form with a CSRF token"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the session's CSRF token."""
    page = client.get("/admin/login")
    response = client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/admin/campaigns").text)


@pytest.fixture
def web(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver") as client:
        yield client


@pytest.fixture
def staff_csrf(web: TestClient, sessions: sessionmaker[Session]) -> str:
    """`web` signed in as a staff member (role staff); the CSRF token."""
    with transaction(sessions) as session:
        add_staff(session, "sam@example.org", "staff")
    return sign_in(web, "sam@example.org")


@pytest.fixture
def admin_csrf(web: TestClient, sessions: sessionmaker[Session]) -> str:
    """`web` signed in as an admin; the CSRF token."""
    with transaction(sessions) as session:
        add_staff(session, "ada@example.org", "admin")
    return sign_in(web, "ada@example.org")
