"""Enrolled subscribers made directly in the database, with the consent that enrolling records."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sms_service.core.models import Caregiver, ConsentEvent
from tests.helpers.people import add_caregiver


def add_subscriber(session: Session, *, phone: str, **options: Any) -> Caregiver:
    """An active caregiver (tests.helpers.people.add_caregiver) and their opt-in on record."""
    caregiver = add_caregiver(session, phone=phone, **options)
    session.add(
        ConsentEvent(
            caregiver_id=caregiver.id, kind="opt_in", source="enrollment", text="YES, seeded"
        )
    )
    return caregiver
