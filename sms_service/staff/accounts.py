"""Staff accounts: creating them."""

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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise StaffError(f"a staff account for {email} already exists")
    user = StaffUser(email=email, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    actor.audit(session, "staff.create", user, role=role)
    return user
