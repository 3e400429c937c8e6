"""Partners for tests: one made the way staff make it (checked, audited), by slug."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from sms_service.core.audit import CLI_ACTOR
from sms_service.core.models import Partner, utcnow
from sms_service.core.settings import Settings
from sms_service.partners.records import create_partner
from sms_service.partners.validation import PartnerFields


def add_partner(
    session: Session,
    settings: Settings,
    slug: str = "eastside",
    *,
    sender: str | None = None,
    now: datetime | None = None,
    **keywords: str,
) -> Partner:
    """The partner `slug` ("Eastside Family Center"), with its keywords (word=language)."""
    return create_partner(
        session,
        fields=PartnerFields(name=f"{slug.title()} Family Center", slug=slug, sender=sender),
        keywords=keywords,
        settings=settings,
        actor=CLI_ACTOR,
        now=now or utcnow(),
    )
