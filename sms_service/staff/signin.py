"""Staff sign-in: passwords checked with lockout and back-off, and who the signed-in person is."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_service.core.audit import Actor
from sms_service.core.models import StaffUser
from sms_service.staff.passwords import hash_password, needs_rehash, verify_password

logger = logging.getLogger(__name__)

# Lockout: after FREE_ATTEMPTS wrong passwords, each further failure locks the account for twice
# as long as the last one (1, 2, 4 ... minutes), never more than MAX_LOCK.
FREE_ATTEMPTS = 5
FIRST_LOCK = timedelta(minutes=1)
MAX_LOCK = timedelta(hours=1)

# Verifying against a real hash when the email is unknown keeps both answers equally slow.
_DUMMY_HASH = hash_password("not-a-real-password-just-for-timing")


@dataclass(frozen=True)
class StaffIdentity:
    """Who is making this request, as the admin and API see them."""

    id: int
    email: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> Actor:
        """This person as the author of audited actions."""
        return Actor(name=self.email, staff_user_id=self.id, role=self.role)


@dataclass(frozen=True)
class LoginOutcome:
    """The answer to a sign-in attempt: the user, or the message to show."""

    user: StaffIdentity | None
    message: str = ""


def lock_duration(failed_logins: int) -> timedelta | None:
    """How long the account locks after this many consecutive failures (None: not locked)."""
    if failed_logins < FREE_ATTEMPTS:
        return None
    lock: timedelta = FIRST_LOCK * 2 ** min(failed_logins - FREE_ATTEMPTS, 12)
    return min(lock, MAX_LOCK)


def authenticate(session: Session, *, email: str, password: str, now: datetime) -> LoginOutcome:
    """Check a sign-in attempt, counting failures and locking with back-off; the caller commits."""
    email = email.strip().lower()[:254]
    # Whoever tries is named by the email they typed; only a success says which account it is.
    attempt = Actor(name=email or "?")
    # Locked for the transaction: two wrong passwords at once must both be counted.
    user = session.scalar(select(StaffUser).where(StaffUser.email == email).with_for_update())
    refused = LoginOutcome(None, "That email and password do not match an account.")
    if user is None or not user.is_active:
        verify_password(_DUMMY_HASH, password)
        attempt.audit(session, "staff.login_refused")
        return refused
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        attempt.audit(session, "staff.login_locked", user)
        return LoginOutcome(None, f"Too many failed sign-ins. Try again in {minutes} minute(s).")
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        lock = lock_duration(user.failed_logins)
        detail: dict[str, Any] = {"failed_logins": user.failed_logins}
        if lock is not None:
            user.locked_until = now + lock
            detail["locked_minutes"] = lock.total_seconds() / 60
            logger.warning("staff account %s locked after %s failures", user.id, user.failed_logins)
        attempt.audit(session, "staff.login_failed", user, **detail)
        return refused
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    identity = StaffIdentity(user.id, user.email, user.role)
    identity.actor.audit(session, "staff.login", user)
    return LoginOutcome(identity)


def load_staff(session: Session, staff_id: int) -> StaffIdentity | None:
    """The active staff member with this id, if any."""
    user = session.get(StaffUser, staff_id)
    if user is None or not user.is_active:
        return None
    return StaffIdentity(user.id, user.email, user.role)
