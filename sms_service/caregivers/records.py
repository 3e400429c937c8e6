"""Looking after families' records: search, timeline, pause, tags, opt-out on request, export,
and deletion of personal data.

Deleting personal data removes the caregiver row and everything hanging off it (children,
messages in and out, consent events, tags) and leaves one anonymous `suppression` row keyed by
the SHA-256 of the phone number. The number is then unknown to planning (no caregiver row), and
enrollment asks `is_suppressed` before it starts a conversation with an unknown number: only a
new, explicit opt-in keyword lifts the suppression (`lift_suppression`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from sms_service.caregivers.consent import opt_out, record_consent
from sms_service.core.audit import Actor
from sms_service.core.models import (
    CAREGIVER_STATUSES,
    AuditLog,
    Caregiver,
    CaregiverTag,
    Child,
    ConsentEvent,
    InboundMessage,
    OutboundMessage,
    Suppression,
)
from sms_service.core.phones import mask, phone_hash

_TAG = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,39}$")
PAGE_SIZE = 50


class CaregiverError(ValueError):
    """A caregiver request that cannot be carried out, with the reason."""


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to a caregiver, in or out."""

    at: datetime
    kind: str  # "in", "out", "consent", "status"
    text: str
    detail: str = ""


def get_caregiver(session: Session, caregiver_id: int) -> Caregiver:
    """The caregiver with this id, with children and tags loaded."""
    caregiver = session.scalar(
        select(Caregiver)
        .where(Caregiver.id == caregiver_id)
        .options(selectinload(Caregiver.children), selectinload(Caregiver.tags))
    )
    if caregiver is None:
        raise CaregiverError(f"there is no caregiver {caregiver_id}")
    return caregiver


def search_caregivers(
    session: Session,
    *,
    query: str = "",
    status: str = "",
    language: str = "",
    tag: str = "",
    page: int = 0,
) -> list[Caregiver]:
    """Caregivers matching a search (last digits of the phone, or a child's name) and filters."""
    statement = select(Caregiver).options(
        selectinload(Caregiver.children), selectinload(Caregiver.tags)
    )
    query = query.strip()
    digits = re.sub(r"\D", "", query)
    if query and digits and len(digits) == len(re.sub(r"[\s+()-]", "", query)):
        statement = statement.where(Caregiver.phone.like(f"%{digits}"))
    elif query:
        pattern = "%" + query.lower().replace("%", "").replace("_", "") + "%"
        statement = statement.where(
            select(Child.id)
            .where(Child.caregiver_id == Caregiver.id, func.lower(Child.name).like(pattern))
            .exists()
        )
    if status in CAREGIVER_STATUSES:
        statement = statement.where(Caregiver.status == status)
    if language:
        statement = statement.where(Caregiver.language == language)
    if tag:
        statement = statement.where(
            select(CaregiverTag.tag)
            .where(CaregiverTag.caregiver_id == Caregiver.id, CaregiverTag.tag == tag)
            .exists()
        )
    statement = statement.order_by(Caregiver.id.desc()).limit(PAGE_SIZE).offset(page * PAGE_SIZE)
    return list(session.scalars(statement))


def timeline(session: Session, caregiver: Caregiver) -> list[TimelineEntry]:
    """Every message in and out, consent event and status change, newest first."""
    entries: list[TimelineEntry] = []
    for inbound in session.scalars(
        select(InboundMessage).where(InboundMessage.caregiver_id == caregiver.id)
    ):
        entries.append(
            TimelineEntry(inbound.received_at, "in", inbound.body, inbound.handled_as or "")
        )
    for outbound in session.scalars(
        select(OutboundMessage).where(OutboundMessage.caregiver_id == caregiver.id)
    ):
        state = outbound.state + (f" ({outbound.error_code})" if outbound.error_code else "")
        if outbound.error_message and outbound.state == "cancelled":
            state += f": {outbound.error_message}"
        entries.append(
            TimelineEntry(
                outbound.sent_at or outbound.due_at,
                "out",
                outbound.body,
                f"{outbound.kind}, {state}",
            )
        )
    for event in session.scalars(
        select(ConsentEvent).where(ConsentEvent.caregiver_id == caregiver.id)
    ):
        entries.append(
            TimelineEntry(
                event.created_at, "consent", f"{event.kind} ({event.source})", event.keyword or ""
            )
        )
    for entry in session.scalars(
        select(AuditLog).where(
            AuditLog.target_type == "Caregiver", AuditLog.target_id == str(caregiver.id)
        )
    ):
        entries.append(TimelineEntry(entry.created_at, "status", entry.action, entry.actor))
    if caregiver.enrolled_at is not None:
        entries.append(
            TimelineEntry(
                caregiver.enrolled_at, "status", "enrolled", caregiver.enrollment_keyword or ""
            )
        )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries


def pause_caregiver(
    session: Session, caregiver: Caregiver, *, until: datetime, actor: Actor, now: datetime
) -> None:
    """Hold every text to this caregiver until `until` (the planner resumes them then)."""
    if caregiver.status != "active":
        raise CaregiverError(
            f"only an active caregiver can be paused (this one is {caregiver.status})"
        )
    if until <= now:
        raise CaregiverError("the pause must end in the future")
    caregiver.status = "paused"
    caregiver.paused_until = until
    actor.audit(session, "caregiver.pause", caregiver, until=until.isoformat())


def resume_caregiver(session: Session, caregiver: Caregiver, *, actor: Actor) -> None:
    """End a pause now."""
    if caregiver.status != "paused":
        raise CaregiverError("only a paused caregiver can be resumed")
    caregiver.status = "active"
    caregiver.paused_until = None
    actor.audit(session, "caregiver.resume", caregiver)


def set_tags(session: Session, caregiver: Caregiver, *, tags: list[str], actor: Actor) -> None:
    """Replace the caregiver's tags (lowercase words used to target campaigns)."""
    cleaned = sorted({" ".join(tag.lower().split()) for tag in tags if tag.strip()})
    for tag in cleaned:
        if not _TAG.match(tag):
            raise CaregiverError(f"{tag!r} is not a tag (lowercase letters, digits, - and _)")
    caregiver.tags = [CaregiverTag(tag=tag) for tag in cleaned]
    session.flush()
    actor.audit(session, "caregiver.tags", caregiver, tags=cleaned)


def record_staff_opt_out(
    session: Session, caregiver: Caregiver, *, note: str, actor: Actor, now: datetime
) -> None:
    """Opt a caregiver out because they asked staff (by phone, in person...)."""
    if not opt_out(session, caregiver=caregiver, now=now):
        raise CaregiverError("this caregiver has already opted out")
    record_consent(
        session,
        caregiver=caregiver,
        kind="opt_out",
        source="staff",
        keyword=None,
        text=note.strip()[:500] or f"recorded by {actor.name}",
        inbound=None,
        now=now,
    )
    actor.audit(session, "caregiver.opt_out", caregiver)


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


def delete_personal_data(session: Session, caregiver: Caregiver, *, actor: Actor) -> None:
    """Admins only: erase the caregiver, keeping an anonymous opt-out so they are never texted."""
    if not actor.is_admin:
        raise CaregiverError("only admins can delete personal data")
    hashed = phone_hash(caregiver.phone)
    if session.get(Suppression, hashed) is None:
        session.add(Suppression(phone_hash=hashed, reason="deleted on request"))
    caregiver_id = caregiver.id
    # Audit rows about this caregiver may quote what they wrote; keep only that it happened.
    for entry in session.scalars(
        select(AuditLog).where(
            AuditLog.target_type == "Caregiver", AuditLog.target_id == str(caregiver_id)
        )
    ):
        entry.detail = {}
    session.execute(delete(Caregiver).where(Caregiver.id == caregiver_id))
    session.expunge(caregiver)
    actor.audit(session, "caregiver.delete", None, caregiver_id=caregiver_id)


def _nobody_suppressed(session: Session) -> bool:
    # phone_hash is deliberately slow: skip it while nobody has been deleted (the usual case).
    return session.scalar(select(Suppression.phone_hash).limit(1)) is None


def is_suppressed(session: Session, phone: str) -> bool:
    """Whether this number's data was deleted on request (never text it unless it opts in)."""
    if _nobody_suppressed(session):
        return False
    return session.get(Suppression, phone_hash(phone)) is not None


def lift_suppression(session: Session, phone: str) -> bool:
    """Forget the suppression after a new explicit opt-in; True when there was one."""
    if _nobody_suppressed(session):
        return False
    result = session.execute(delete(Suppression).where(Suppression.phone_hash == phone_hash(phone)))
    return bool(getattr(result, "rowcount", 0))


def describe(caregiver: Caregiver) -> str:
    """A short label without personal data: masked phone, language and status."""
    return f"{mask(caregiver.phone)} · {caregiver.language} · {caregiver.status}"


def statuses() -> tuple[str, ...]:
    """The statuses a caregiver can have (for filters)."""
    return CAREGIVER_STATUSES
