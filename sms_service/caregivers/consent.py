"""Consent: opt-out, opt-in and help requests change a caregiver's status and are recorded."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from sms_service.core.models import Caregiver, Child, ConsentEvent, InboundMessage, OutboundMessage
from sms_service.core.phones import mask

logger = logging.getLogger(__name__)


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
    session.flush()  # the caregiver and inbound rows need their ids
    event = ConsentEvent(
        caregiver_id=caregiver.id,
        kind=kind,
        source=source,
        keyword=keyword[:40] if keyword else None,
        text=text,
        inbound_message_id=inbound.id if inbound is not None else None,
        created_at=now,
    )
    session.add(event)
    return event


def opt_out(session: Session, *, caregiver: Caregiver, now: datetime) -> bool:
    """Stop everything for this caregiver; False when they had already opted out."""
    if caregiver.status == "opted_out":
        return False
    caregiver.status = "opted_out"
    caregiver.opted_out_at = now
    caregiver.paused_until = None
    caregiver.conversation_step = None
    caregiver.conversation_data = {}
    if caregiver.id is not None:
        # The dispatcher re-checks the status before sending; cancelling the queue here as well
        # keeps the staff timeline honest about what will never go out.
        cancelled = cast(
            CursorResult[Any],
            session.execute(
                update(OutboundMessage)
                .where(
                    OutboundMessage.caregiver_id == caregiver.id,
                    OutboundMessage.state == "pending",
                )
                .values(state="cancelled", error_message="caregiver opted out", updated_at=now)
            ),
        )
        logger.info(
            "%s opted out; %d pending message(s) cancelled",
            mask(caregiver.phone),
            cancelled.rowcount,
        )
    return True


def can_resume_tips(session: Session, *, caregiver: Caregiver) -> bool:
    """Whether an opted-in caregiver has what tips need: a schedule and an active child."""
    if caregiver.send_weekday is None or caregiver.send_hour is None or caregiver.id is None:
        return False
    child = session.scalar(
        select(Child.id).where(Child.caregiver_id == caregiver.id, Child.status == "active")
    )
    return child is not None
