"""Everything held about one caregiver, for their data request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_service.caregivers.records import timeline
from sms_service.core.audit import Actor
from sms_service.core.models import Caregiver, Survey, SurveyAnswer, SurveyQuestion, SurveyRun


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
        "survey_answers": _survey_answers(session, caregiver),
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


def _survey_answers(session: Session, caregiver: Caregiver) -> list[dict[str, Any]]:
    """The family's survey answers as read from their texts (the texts are in the timeline)."""
    rows = session.execute(
        select(Survey.name, SurveyQuestion.key, SurveyAnswer.value, SurveyAnswer.answered_at)
        .join(SurveyRun, SurveyRun.id == SurveyAnswer.run_id)
        .join(Survey, Survey.id == SurveyRun.survey_id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .where(SurveyRun.caregiver_id == caregiver.id)
        .order_by(SurveyAnswer.answered_at, SurveyAnswer.id)
    )
    return [
        {"survey": name, "question": key, "value": value, "answered_at": at.isoformat()}
        for name, key, value, at in rows
    ]
