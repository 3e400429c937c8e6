"""Staff accounts: creating them and setting their passwords."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_service.core.audit import CLI_ACTOR, Actor
from sms_service.core.models import STAFF_ROLES, StaffUser
from sms_service.staff.passwords import MIN_PASSWORD_LENGTH, hash_password

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StaffError(ValueError):
    """A staff account request that cannot be carried out, with the reason."""


def create_staff_user(
    session: Session, *, email: str, password: str, role: str = "staff", actor: Actor = CLI_ACTOR
) -> StaffUser:
    """Add a staff account with an argon2-hashed password and audit it; the caller commits."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise StaffError(f"{email!r} is not an email address")
    if role not in STAFF_ROLES:
        raise StaffError(f"role must be one of {', '.join(STAFF_ROLES)}")
    _check_password(password)
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise StaffError(f"a staff account for {email} already exists")
    user = StaffUser(email=email, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    actor.audit(session, "staff.create", user, role=role)
    return user


def set_password(
    session: Session, *, email: str, password: str, actor: Actor = CLI_ACTOR
) -> StaffUser:
    """Give the account a new password and end all its sessions (whoever holds one signs in
    again with the new password), clearing its failed sign-ins; the caller commits."""
    _check_password(password)
    email = email.strip().lower()
    user = session.scalar(select(StaffUser).where(StaffUser.email == email).with_for_update())
    if user is None:
        raise StaffError(f"no staff account {email}")
    user.password_hash = hash_password(password)
    user.session_version += 1
    user.failed_logins, user.signin_throttle = 0, {}
    actor.audit(session, "staff.password_set", user)
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
