"""Staff sign-in: passwords checked with throttling per account and client address, who the
signed-in person is, and ending their sessions.

Throttling, not account lockout: after FREE_ATTEMPTS wrong passwords for one account from one
client address, that account refuses that address for a while, doubling each time (1, 2, 4 ...
minutes, never more than MAX_LOCK); other addresses are unaffected, so someone guessing cannot
lock the owner out (the username + IP lockout of django-axes, OWASP's advice against plain
account lockout). Failures while refused are not counted, so they do not extend the wait.
Every answer that is not a success is the same words after the same work (one argon2 verify),
so neither the page nor its timing tells which emails have accounts, or which are throttled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sms_service.core.audit import Actor
from sms_service.core.models import StaffUser
from sms_service.core.scope import Scope
from sms_service.staff.passwords import hash_password, needs_rehash, verify_password

logger = logging.getLogger(__name__)

FREE_ATTEMPTS = 5
FIRST_LOCK = timedelta(minutes=1)
MAX_LOCK = timedelta(hours=1)
# A client address's failures are forgotten a day after its last one; at most this many
# addresses are remembered per account (the most recent).
FORGET_AFTER = timedelta(days=1)
MAX_TRACKED_CLIENTS = 50

REFUSED = (
    "That email and password do not match an account, or the account is locked for a while "
    "after many failed sign-ins."
)

# Verifying against a real hash when the email is unknown keeps every answer equally slow.
_DUMMY_HASH = hash_password("not-a-real-password-just-for-timing")


@dataclass(frozen=True)
class StaffIdentity:
    """Who is making this request, as the admin and API see them."""

    id: int
    email: str
    role: str
    # The partner whose families this person works with (None: the network's own staff).
    partner_id: int | None = None
    partner_name: str | None = None

    @classmethod
    def of(cls, user: StaffUser) -> StaffIdentity:
        """The identity of a staff account (its partner's name read through the relationship)."""
        partner = user.partner
        name = partner.name if partner is not None else None
        return cls(user.id, user.email, user.role, user.partner_id, name)

    @property
    def is_admin(self) -> bool:
        """An admin of the network, or of their partner (their partner's staff, messages)."""
        return self.role == "admin"

    @property
    def is_network_admin(self) -> bool:
        """An admin of the whole network: content, partners, approvals, the audit log."""
        return self.role == "admin" and self.partner_id is None

    @property
    def writes_campaigns(self) -> bool:
        """The network's own staff, or a partner's admin (local messages); a partner's staff
        answer families but send nothing."""
        return self.partner_id is None or self.is_admin

    @property
    def scope(self) -> Scope:
        """The part of the network this person may see."""
        return Scope(self.partner_id)

    @property
    def title(self) -> str:
        """The account's kind in words: "network admin", "Eastside Family Center staff"."""
        return f"{self.partner_name or 'network'} {self.role}"

    @property
    def actor(self) -> Actor:
        """This person as the author of audited actions."""
        return Actor(
            name=self.email, staff_user_id=self.id, role=self.role, partner_id=self.partner_id
        )


@dataclass(frozen=True)
class LoginOutcome:
    """The answer to a sign-in attempt: the user and the session version their cookie
    carries, or the message to show."""

    user: StaffIdentity | None
    message: str = ""
    session_version: int = 0


def lock_duration(failures: int) -> timedelta | None:
    """How long one client address is refused after this many failures (None: not at all)."""
    if failures < FREE_ATTEMPTS:
        return None
    lock: timedelta = FIRST_LOCK * 2 ** min(failures - FREE_ATTEMPTS, 12)
    return min(lock, MAX_LOCK)


def _remembered(throttle: dict[str, Any], now: datetime) -> dict[str, dict[str, Any]]:
    """The throttle entries still worth keeping, most recent MAX_TRACKED_CLIENTS of them."""
    kept = {
        client: entry
        for client, entry in throttle.items()
        if isinstance(entry, dict)
        and now - datetime.fromisoformat(str(entry.get("last"))) < FORGET_AFTER
    }
    newest = sorted(kept, key=lambda client: str(kept[client]["last"]), reverse=True)
    return {client: kept[client] for client in newest[:MAX_TRACKED_CLIENTS]}


def refused_until(user: StaffUser, client: str, now: datetime) -> datetime | None:
    """Until when this account refuses sign-ins from `client` (None: it does not)."""
    entry = (user.signin_throttle or {}).get(client)
    until = entry.get("locked_until") if isinstance(entry, dict) else None
    if until is None:
        return None
    moment = datetime.fromisoformat(str(until))
    return moment if moment > now else None


def authenticate(
    session: Session, *, email: str, password: str, client: str, now: datetime
) -> LoginOutcome:
    """Check a sign-in attempt from `client` (its address), throttling repeated failures from
    that address with back-off; the caller commits."""
    email = email.strip().lower()[:254]
    client = client[:64] or "?"
    # Whoever tries is named by the email they typed; only a success says which account it is.
    attempt = Actor(name=email or "?")
    # Locked for the transaction: two wrong passwords at once must both be counted.
    user = session.scalar(select(StaffUser).where(StaffUser.email == email).with_for_update())
    known = user is not None and user.is_active
    # The one argon2 verify, on every path: unknown, deactivated, refused or not.
    matches = verify_password(user.password_hash if user and known else _DUMMY_HASH, password)
    refused = LoginOutcome(None, REFUSED)
    if user is None or not known:
        attempt.audit(session, "staff.login_refused")
        return refused
    if refused_until(user, client, now) is not None:
        # Not counted: guessing while refused does not make the wait any longer.
        attempt.audit(session, "staff.login_locked", user, client=client)
        return refused
    throttle = _remembered(dict(user.signin_throttle or {}), now)
    if not matches:
        user.failed_logins += 1
        failures = int(throttle.get(client, {}).get("failures", 0)) + 1
        lock = lock_duration(failures)
        entry: dict[str, Any] = {"failures": failures, "last": now.isoformat()}
        detail: dict[str, Any] = {"client": client, "failures": failures}
        if lock is not None:
            entry["locked_until"] = (now + lock).isoformat()
            detail["locked_minutes"] = lock.total_seconds() / 60
            logger.warning(
                "staff account %s refuses %s for %s after %s failures",
                user.id,
                client,
                lock,
                failures,
            )
        throttle[client] = entry
        user.signin_throttle = _remembered(throttle, now)
        attempt.audit(session, "staff.login_failed", user, **detail)
        return refused
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    # Only this address starts afresh: a success elsewhere must not reset a guesser's count.
    throttle.pop(client, None)
    user.signin_throttle = throttle
    user.failed_logins = 0
    user.last_login_at = now
    identity = StaffIdentity.of(user)
    identity.actor.audit(session, "staff.login", user, client=client)
    return LoginOutcome(identity, session_version=user.session_version)


def load_staff(session: Session, staff_id: int, session_version: int) -> StaffIdentity | None:
    """The active staff member with this id, if their sessions of this version still stand."""
    user = session.get(StaffUser, staff_id)
    if user is None or not user.is_active or user.session_version != session_version:
        return None
    return StaffIdentity.of(user)


def end_sessions(session: Session, staff_id: int) -> None:
    """End every session of this staff member, on every device (their cookies stop working);
    the caller commits."""
    session.execute(
        update(StaffUser)
        .where(StaffUser.id == staff_id)
        .values(session_version=StaffUser.session_version + 1)
        .execution_options(synchronize_session="fetch")
    )
