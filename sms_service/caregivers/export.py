"""Everything held about one caregiver, for their data request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sms_service.caregivers.records import timeline
from sms_service.core.audit import Actor
from sms_service.core.models import Caregiver


def export_caregiver(session: Session, caregiver: Caregiver, *, actor: Actor) -> dict[str, Any]:
    """Everything held about one caregiver, for a data request (the export is audited)."""
    actor.audit(session, "caregiver.export", caregiver)

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "caregiver": {
            "id": caregiver.id,
            "phone": caregiver.phone,
            "language": caregiver.language,
            "timezone": caregiver.timezone,
            "region": caregiver.region,
            "status": caregiver.status,
            "send_weekday": caregiver.send_weekday,
            "send_hour": caregiver.send_hour,
            "enrollment_keyword": caregiver.enrollment_keyword,
            "enrolled_at": when(caregiver.enrolled_at),
            "opted_out_at": when(caregiver.opted_out_at),
            "paused_until": when(caregiver.paused_until),
            "created_at": when(caregiver.created_at),
            "tags": [tag.tag for tag in caregiver.tags],
        },
        "children": [
            {
                "name": child.name,
                "birth_date": child.birth_date.isoformat(),
                "is_expected": child.is_expected,
                "status": child.status,
            }
            for child in caregiver.children
        ],
        "timeline": [
            {
                "at": entry.at.isoformat(),
                "kind": entry.kind,
                "text": entry.text,
                "detail": entry.detail,
            }
            for entry in timeline(session, caregiver)
        ],
    }
