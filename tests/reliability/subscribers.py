"""Enrolled subscribers and their queued tips, made directly in the database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from sms_service.core.models import Caregiver, ConsentEvent, OutboundMessage
from tests.helpers.people import add_caregiver

LEASE = timedelta(minutes=5)


def add_subscriber(session: Session, *, phone: str, **options: Any) -> Caregiver:
    """An active caregiver (tests.helpers.people.add_caregiver) and their opt-in on record."""
    caregiver = add_caregiver(session, phone=phone, **options)
    session.add(
        ConsentEvent(
            caregiver_id=caregiver.id, kind="opt_in", source="enrollment", text="YES, seeded"
        )
    )
    return caregiver


def add_tip(
    session: Session,
    caregiver: Caregiver,
    *,
    key: str,
    due_at: datetime,
    state: str = "pending",
    provider_sid: str | None = None,
) -> None:
    """A tip in the outbox: pending, claimed ("sending", leased from `due_at`) or sent."""
    session.add(
        OutboundMessage(
            dedupe_key=key,
            kind="tip",
            caregiver_id=caregiver.id,
            to_number=caregiver.phone,
            body="A tip",
            state=state,
            due_at=due_at,
            lease_expires_at=due_at + LEASE if state == "sending" else None,
            provider_sid=provider_sid,
            sent_at=due_at if provider_sid else None,
        )
    )
