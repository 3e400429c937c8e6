"""Which partner a family belongs to: the default partner (the program itself) and moves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_service.core.models import Partner

# The program itself as a partner (migration 0010 creates it; this finds or makes it again).
DEFAULT_PARTNER_SLUG = "program"
DEFAULT_PARTNER_NAME = "Little Moments"  # texts never name it: it is the program


def default_partner_id(session: Session, *, now: datetime) -> int:
    """The id of the default partner, made again when the database has none (an emptied one)."""
    found = session.scalar(select(Partner.id).where(Partner.slug == DEFAULT_PARTNER_SLUG))
    if found is not None:
        return found
    partner = Partner(
        slug=DEFAULT_PARTNER_SLUG, name=DEFAULT_PARTNER_NAME, created_at=now, updated_at=now
    )
    session.add(partner)
    session.flush()
    return partner.id
