"""Numbers erased on request: an anonymous, slow digest that keeps them from being texted.

Deleting personal data leaves one `suppression` row keyed by an Argon2id digest of the number
(`core.phones.phone_hash`; a fast hash could be tabulated for every phone number). The number
is then unknown to planning, and a text from it starts opted out: only a new, explicit opt-in
keyword lifts the suppression.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from sms_service.core.models import Suppression
from sms_service.core.phones import phone_hash


def suppress(session: Session, phone: str, *, reason: str) -> None:
    """Keep this number from ever being texted unless it opts in again."""
    hashed = phone_hash(phone)
    if session.get(Suppression, hashed) is None:
        session.add(Suppression(phone_hash=hashed, reason=reason))


def is_suppressed(session: Session, phone: str) -> bool:
    """Whether this number was erased on request (and so must not be texted first)."""
    return session.get(Suppression, phone_hash(phone)) is not None


def lift(session: Session, phone: str) -> bool:
    """Forget the suppression of a number that texts us again; True when there was one."""
    if session.scalar(select(Suppression.phone_hash).limit(1)) is None:
        return False  # phone_hash is deliberately slow: skip it while nobody was deleted
    result = session.execute(delete(Suppression).where(Suppression.phone_hash == phone_hash(phone)))
    return bool(cast(CursorResult[Any], result).rowcount)
