from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, StaffUser
from sms_service.staff.accounts import StaffError, create_staff_user, set_password
from sms_service.staff.passwords import verify_password


def test_create_user_hashes_the_password_and_audits(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        create_staff_user(
            session, email=" Ana@Example.org ", password="a long passphrase", role="admin"
        )
    with sessions() as session:
        user = session.scalars(select(StaffUser)).one()
        audit = session.scalars(select(AuditLog)).one()
    assert user.email == "ana@example.org"
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "a long passphrase")
    assert not verify_password(user.password_hash, "a wrong passphrase")
    assert (audit.actor, audit.action, audit.target_id) == ("cli", "staff.create", str(user.id))


@pytest.mark.parametrize(
    ("email", "password", "role", "problem"),
    [
        ("not-an-email", "a long passphrase", "staff", "not an email"),
        ("ana@example.org", "short", "staff", "at least 12"),
        ("ana@example.org", "a long passphrase", "root", "role must be"),
    ],
)
def test_bad_requests_are_refused(
    sessions: sessionmaker[Session], email: str, password: str, role: str, problem: str
) -> None:
    with pytest.raises(StaffError, match=problem), transaction(sessions) as session:
        create_staff_user(session, email=email, password=password, role=role)
    with sessions() as session:
        assert session.scalars(select(StaffUser)).all() == []


def test_duplicate_email_is_refused(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        create_staff_user(session, email="ana@example.org", password="a long passphrase")
    with pytest.raises(StaffError, match="already exists"), transaction(sessions) as session:
        create_staff_user(session, email="ANA@example.org", password="another passphrase")


def test_set_password_ends_the_sessions_and_clears_failures(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        user = create_staff_user(session, email="ana@example.org", password="a long passphrase")
        user.failed_logins, user.signin_throttle = 3, {"203.0.113.9": {"failures": 3}}
        version = user.session_version
    with transaction(sessions) as session:
        with pytest.raises(StaffError, match="at least 12"):
            set_password(session, email="ana@example.org", password="short")
        with pytest.raises(StaffError, match="no staff account"):
            set_password(session, email="nobody@example.org", password="a new long passphrase")
        set_password(session, email=" ANA@example.org", password="a new long passphrase")
    with sessions() as session:
        user = session.scalars(select(StaffUser)).one()
        actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert verify_password(user.password_hash, "a new long passphrase")
    assert user.session_version == version + 1
    assert (user.failed_logins, user.signin_throttle) == (0, {})
    assert actions[-1] == "staff.password_set"
