"""API bearer tokens: made for a staff member, stored only as a hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sms_service.core.audit import Actor
from sms_service.core.models import ApiToken, StaffUser
from sms_service.staff.signin import StaffIdentity

API_TOKEN_PREFIX = "smt_"
# One write a minute is enough to show which tokens are still in use.
USE_RECORDED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenHolder:
    """The staff member an API token acts for, and whether this use is worth recording."""

    staff: StaffIdentity
    token_id: int
    record_use: bool


def token_hash(token: str) -> str:
    """What is stored for an API token: its SHA-256 (tokens are long random strings)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(session: Session, *, staff_user_id: int, name: str, actor: Actor) -> str:
    """Make a new API token for a staff member and return it; only its hash is kept."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        staff_user_id=staff_user_id, name=name.strip()[:80] or "token", token_hash=token_hash(token)
    )
    session.add(row)
    session.flush()
    actor.audit(session, "api_token.create", row, staff_user_id=staff_user_id, name=row.name)
    return token


def token_holder(session: Session, token: str, *, now: datetime) -> TokenHolder | None:
    """Who an unrevoked API token of an active staff member belongs to; reads only."""
    row = session.execute(
        select(ApiToken, StaffUser)
        .join(StaffUser, StaffUser.id == ApiToken.staff_user_id)
        .where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or not row.StaffUser.is_active:
        return None
    api_token, user = row.ApiToken, row.StaffUser
    last_used = api_token.last_used_at
    return TokenHolder(
        staff=StaffIdentity.of(user),
        token_id=api_token.id,
        record_use=last_used is None or now - last_used > USE_RECORDED_EVERY,
    )


def record_token_use(session: Session, *, token_id: int, now: datetime) -> None:
    """Note that the token was used at `now`; the caller commits."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
