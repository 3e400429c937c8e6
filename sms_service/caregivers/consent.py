"""Consent records: every opt-in, opt-out and help request, with the words that made it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from sms_service.core.models import Caregiver, ConsentEvent, InboundMessage


def record_consent(
    session: Session,
    *,
    caregiver: Caregiver,
    kind: str,
    source: str,
    keyword: str | None,
    text: str,
    inbound: InboundMessage | None,
    now: datetime,
) -> ConsentEvent:
    """Add one consent event (opt_in, opt_out or help) with the words that made it."""
    event = ConsentEvent(
        caregiver=caregiver,
        kind=kind,
        source=source,
        keyword=keyword[:40] if keyword else None,
        text=text,
        inbound=inbound,
        created_at=now,
    )
    session.add(event)
    return event
