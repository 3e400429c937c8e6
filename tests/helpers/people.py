"""Factories for caregivers, children and staff in tests (real rows, committed by the caller)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count

from sqlalchemy.orm import Session

from sms_service.caregivers.partnership import default_partner_id
from sms_service.core.models import (
    Caregiver,
    CaregiverTag,
    Child,
    InboundMessage,
    Suppression,
    utcnow,
)
from sms_service.core.phones import phone_hash
from sms_service.staff.accounts import create_staff_user

_numbers = count(1000)
PASSWORD = "correct horse battery staple"


def add_caregiver(
    session: Session,
    *,
    language: str = "en",
    status: str = "active",
    phone: str | None = None,
    timezone: str = "America/New_York",
    region: str | None = "NY",
    keyword: str | None = None,
    enrolled_at: datetime | None = None,
    tags: tuple[str, ...] = (),
    child_age_days: int | None = 100,
    child_name: str | None = None,
    today: date | None = None,
    partner_id: int | None = None,
) -> Caregiver:
    """An enrolled caregiver with one child `child_age_days` old (negative: expected)."""
    caregiver = Caregiver(
        phone=phone or f"+1212555{next(_numbers):04d}",
        language=language,
        timezone=timezone,
        region=region,
        send_weekday=0,
        send_hour=10,
        status=status,
        enrollment_keyword=keyword or ("HOLA" if language == "es" else "JOIN"),
        enrolled_at=enrolled_at or utcnow(),
        partner_id=partner_id or default_partner_id(session, now=utcnow()),
    )
    session.add(caregiver)
    for tag in tags:
        caregiver.tags.append(CaregiverTag(tag=tag))
    if child_age_days is not None:
        birth = (today or date.today()) - timedelta(days=child_age_days)
        caregiver.children.append(
            Child(name=child_name, birth_date=birth, is_expected=child_age_days < 0)
        )
    session.flush()
    return caregiver


def add_staff(
    session: Session, email: str, role: str = "staff", *, partner_id: int | None = None
) -> int:
    """A staff account with the shared test password (a partner's, with `partner_id`); returns
    its id."""
    user = create_staff_user(
        session, email=email, password=PASSWORD, role=role, partner_id=partner_id
    )
    return user.id


def is_suppressed(session: Session, phone: str) -> bool:
    """Whether this number is on the do-not-text list of erased numbers."""
    return session.get(Suppression, phone_hash(phone)) is not None


def add_inbox_text(session: Session, caregiver: Caregiver, body: str) -> InboundMessage:
    """A text from `caregiver` waiting, unread, in the staff inbox."""
    message = InboundMessage(
        message_sid=f"SMinbox{next(_numbers):026d}",
        caregiver_id=caregiver.id,
        from_number=caregiver.phone,
        body=body,
        handled_as="reply",
        inbox_state="unread",
    )
    session.add(message)
    session.flush()
    return message
