"""Staff accounts: creating them and setting their passwords."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from sms_service.core.audit import CLI_ACTOR, Actor
from sms_service.core.errors import NotFound
from sms_service.core.models import STAFF_ROLES, Partner, StaffUser
from sms_service.core.scope import Scope
from sms_service.staff.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StaffError(ValueError):
    """A staff account request that cannot be carried out, with the reason."""


class StaffNotFound(NotFound):
    """No staff account with this id that the viewer may manage."""


def create_staff_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: str = "staff",
    partner_id: int | None = None,
    actor: Actor = CLI_ACTOR,
) -> StaffUser:
    """Add a staff account with an argon2-hashed password and audit it; the caller commits.
    `partner_id` makes it a partner's account (None: the network's own); a partner's admin
    adds accounts to their own partner only."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise StaffError(f"{email!r} is not an email address")
    if role not in STAFF_ROLES:
        raise StaffError(f"role must be one of {', '.join(STAFF_ROLES)}")
    if not actor.scope.is_network:
        partner_id = actor.partner_id
    if partner_id is not None and session.get(Partner, partner_id) is None:
        raise StaffError("pick one of the partners")
    _check_password(password)
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise StaffError(f"a staff account for {email} already exists")
    user = StaffUser(
        email=email, password_hash=hash_password(password), role=role, partner_id=partner_id
    )
    session.add(user)
    session.flush()
    actor.audit(session, "staff.create", user, role=role, partner_id=partner_id)
    return user


def list_staff(session: Session, *, scope: Scope) -> list[StaffUser]:
    """The staff accounts of `scope` (a partner's admin sees their partner's), by email."""
    statement = select(StaffUser).where(scope.owned(StaffUser.partner_id))
    return list(
        session.scalars(statement.options(joinedload(StaffUser.partner)).order_by(StaffUser.email))
    )


def get_staff(session: Session, user_id: int, *, scope: Scope) -> StaffUser:
    """The staff account with this id, if `scope` may manage it (StaffNotFound otherwise)."""
    user = session.scalar(
        select(StaffUser).where(StaffUser.id == user_id, scope.owned(StaffUser.partner_id))
    )
    if user is None:
        raise StaffNotFound(f"there is no staff account {user_id}")
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


def change_password(
    session: Session, *, staff_id: int, current: str, new: str, repeated: str, actor: Actor
) -> int | None:
    """A signed-in person changes their own password: the current one must match and the new
    one be typed twice. Every session of theirs ends (the caller keeps this one going with the
    returned session version); None when the current password is wrong (audited, so it is
    returned rather than raised: the caller commits either way)."""
    user = session.get(StaffUser, staff_id, with_for_update=True)
    if user is None or not user.is_active:
        raise StaffError("this account can no longer sign in")
    # The one argon2 verify first, whatever else is wrong, so the answer costs the same.
    if not verify_password(user.password_hash, current):
        actor.audit(session, "staff.password_change_refused", user)
        return None
    if new != repeated:
        raise StaffError("The two new passwords are not the same, so nothing was changed.")
    if new == current:
        raise StaffError("The new password is the one you have now; choose another.")
    _check_password(new)
    user.password_hash = hash_password(new)
    user.session_version += 1
    user.failed_logins, user.signin_throttle = 0, {}
    actor.audit(session, "staff.password_change", user)
    return user.session_version


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
