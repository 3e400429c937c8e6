"""CSV exports for staff: caregivers (consent-aware) and a campaign's per-text results."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_service.core.audit import Actor
from sms_service.core.models import Caregiver, CaregiverTag, Child, OutboundMessage
from sms_service.core.phones import mask

CAREGIVER_COLUMNS = (
    "id", "phone", "opted_out", "status", "language", "timezone", "region",
    "enrollment_keyword", "enrolled_at", "children", "tags",
)  # fmt: skip
RESULT_COLUMNS = (
    "caregiver_id", "phone", "message", "state", "error_code", "due_at", "sent_at",
    "delivered_at",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d+$")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting like a formula would run in a spreadsheet (CSV injection); a bare
    # number such as +12125550123 cannot do anything and stays as it is.
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue()


def caregivers_csv(session: Session, *, actor: Actor) -> str:
    """Every caregiver; an opted-out caregiver is flagged and their number left out."""
    children = (
        select(func.count())
        .where(Child.caregiver_id == Caregiver.id, Child.status == "active")
        .scalar_subquery()
    )
    tags: dict[int, list[str]] = {}
    for caregiver_id, tag in session.execute(
        select(CaregiverTag.caregiver_id, CaregiverTag.tag).order_by(CaregiverTag.tag)
    ):
        tags.setdefault(caregiver_id, []).append(tag)
    rows = session.execute(select(Caregiver, children.label("children")).order_by(Caregiver.id))
    actor.audit(session, "export.caregivers")

    def lines() -> Iterable[Sequence[object]]:
        for caregiver, child_count in rows:
            opted_out = caregiver.status == "opted_out"
            yield (
                caregiver.id,
                "" if opted_out else caregiver.phone,
                "yes" if opted_out else "no",
                caregiver.status,
                caregiver.language,
                caregiver.timezone,
                caregiver.region,
                caregiver.enrollment_keyword,
                caregiver.enrolled_at.isoformat() if caregiver.enrolled_at else "",
                child_count,
                " ".join(tags.get(caregiver.id, [])),
            )

    return _csv(CAREGIVER_COLUMNS, lines())


def campaign_results_csv(session: Session, campaign_id: int, *, actor: Actor) -> str:
    """One line per campaign text: who (masked), which message, and what happened to it."""
    rows = session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.campaign_id == campaign_id)
        .order_by(OutboundMessage.id)
    )
    actor.audit(session, "export.campaign_results", None, campaign_id=campaign_id)

    def lines() -> Iterable[Sequence[object]]:
        for row in rows:
            message_id = row.dedupe_key.split(":")[1]
            yield (
                row.caregiver_id,
                mask(row.to_number),
                message_id,
                row.state,
                row.error_code,
                row.due_at.isoformat(),
                row.sent_at.isoformat() if row.sent_at else "",
                row.delivered_at.isoformat() if row.delivered_at else "",
            )

    return _csv(RESULT_COLUMNS, lines())
