"""Tip rows for tests that need one without loading the whole library."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sms_service.core.models import Tip


def add_probe_tip(session: Session, tip_id: str = "1") -> Tip:
    """A tip whose id fills route tables' {tip_id} the way walk() probes them (as "1")."""
    row = Tip(
        id=tip_id,
        language="en",
        min_week=0,
        max_week=3,
        theme="joy",
        text="Hi {child}.",
        content_hash="probe",
        retired_at=None,
    )
    session.add(row)
    return row
