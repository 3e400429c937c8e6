"""Staff accounts: creating them and recording what they do in the audit log."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_service.core.models import STAFF_ROLES, AuditLog, StaffUser
from sms_service.staff.passwords import MIN_PASSWORD_LENGTH, hash_password

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StaffError(ValueError):
    """A staff account request that cannot be carried out, with the reason."""


def create_staff_user(
    session: Session, *, email: str, password: str, role: str = "staff", actor: str = "cli"
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
    record_audit(session, actor=actor, action="staff.create", target=user, detail={"role": role})
    return user


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    target: Any = None,
    staff_user_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Write one audit-log row: who (`actor`), what (`action`), on which record (`target`)."""
    entry = AuditLog(
        staff_user_id=staff_user_id,
        actor=actor,
        action=action,
        target_type=type(target).__name__ if target is not None else None,
        target_id=str(target.id) if target is not None else None,
        detail=detail or {},
    )
    session.add(entry)
    return entry
