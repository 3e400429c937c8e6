"""Families' records as staff see them: finding a caregiver, their timeline, their tags."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from sms_service.caregivers.errors import CaregiverError, CaregiverNotFound
from sms_service.core.audit import Actor
from sms_service.core.delivery_errors import in_words
from sms_service.core.models import (
    CAREGIVER_STATUSES,
    AuditLog,
    Caregiver,
    CaregiverTag,
    Child,
    ConsentEvent,
    InboundMessage,
    OutboundMessage,
)
from sms_service.core.phones import mask
from sms_service.core.scope import Scope

_TAG = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,39}$")
PAGE_SIZE = 50


# Who a text out came from, as a staff member reads the timeline.
_SENT_BY = {
    "tip": "Weekly tip",
    "campaign": "Campaign",
    "system": "Program message",
    "reply": "Automatic reply",
    "staff": "Staff answer",
    "survey": "Survey question",
}


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to a caregiver, in or out."""

    at: datetime
    kind: str  # "in", "out", "consent", "status"
    text: str
    detail: str = ""
    who: str = ""  # in words: the parent, an automatic reply, a tip, a staff action...


def get_caregiver(session: Session, caregiver_id: int, *, scope: Scope) -> Caregiver:
    """The caregiver with this id, with children and tags loaded; a family outside `scope` is
    not found, like a missing one (its id tells nothing)."""
    caregiver = session.scalar(
        select(Caregiver)
        .where(Caregiver.id == caregiver_id, scope.families())
        .options(
            selectinload(Caregiver.children),
            selectinload(Caregiver.tags),
            joinedload(Caregiver.partner),
        )
    )
    if caregiver is None:
        raise CaregiverNotFound(f"there is no caregiver {caregiver_id}")
    return caregiver


def filtered_caregivers(
    *, scope: Scope, query: str = "", status: str = "", language: str = "", tag: str = ""
) -> Select[Caregiver]:
    """Caregivers of `scope` matching a search (last digits of the phone, or a child's name)
    and filters, newest first: the caregivers list shows it a page at a time, the CSV export
    whole."""
    statement = (
        select(Caregiver)
        .where(scope.families())
        .options(
            selectinload(Caregiver.children),
            selectinload(Caregiver.tags),
            joinedload(Caregiver.partner),
        )
    )
    # PostgreSQL text cannot hold NUL (a query with one would fail): it is dropped.
    query, status, language, tag = (
        value.replace("\x00", "") for value in (query, status, language, tag)
    )
    query = query.strip()
    digits = re.sub(r"\D", "", query, flags=re.ASCII)
    if query and digits and len(digits) == len(re.sub(r"[\s+()-]", "", query)):
        statement = statement.where(Caregiver.phone.like(f"%{digits}"))
    elif query:
        # % and _ are searched for as themselves, not as wildcards.
        literal = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        name_matches = func.lower(Child.name).like(f"%{literal}%", escape="\\")
        statement = statement.where(
            select(Child.id).where(Child.caregiver_id == Caregiver.id, name_matches).exists()
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
    return statement.order_by(Caregiver.id.desc())


def search_caregivers(
    session: Session,
    *,
    scope: Scope,
    query: str = "",
    status: str = "",
    language: str = "",
    tag: str = "",
    page: int = 0,
) -> list[Caregiver]:
    """One page of the caregivers matching a search and filters (see filtered_caregivers)."""
    statement = filtered_caregivers(
        scope=scope, query=query, status=status, language=language, tag=tag
    )
    return list(session.scalars(statement.limit(PAGE_SIZE).offset(page * PAGE_SIZE)))


def timeline(session: Session, caregiver: Caregiver) -> list[TimelineEntry]:
    """Every message in and out, consent event and status change, newest first."""
    entries: list[TimelineEntry] = []
    for inbound in session.scalars(
        select(InboundMessage).where(InboundMessage.caregiver_id == caregiver.id)
    ):
        entries.append(
            TimelineEntry(
                inbound.received_at, "in", inbound.body, inbound.handled_as or "", "Parent wrote"
            )
        )
    for outbound in session.scalars(
        select(OutboundMessage).where(OutboundMessage.caregiver_id == caregiver.id)
    ):
        state = outbound.state + (
            f" ({in_words(outbound.error_code)})" if outbound.error_code else ""
        )
        if outbound.error_message and outbound.state == "cancelled":
            state += f": {outbound.error_message}"
        entries.append(
            TimelineEntry(
                outbound.sent_at or outbound.due_at,
                "out",
                outbound.body,
                f"{outbound.kind}, {state}",
                _SENT_BY.get(outbound.kind, outbound.kind),
            )
        )
    for event in session.scalars(
        select(ConsentEvent).where(ConsentEvent.caregiver_id == caregiver.id)
    ):
        entries.append(
            TimelineEntry(
                event.created_at,
                "consent",
                f"{event.kind} ({event.source})",
                event.keyword or "",
                "Consent record",
            )
        )
    for entry in session.scalars(
        select(AuditLog).where(
            AuditLog.target_type == "Caregiver", AuditLog.target_id == str(caregiver.id)
        )
    ):
        entries.append(
            TimelineEntry(entry.created_at, "status", entry.action, entry.actor, "Staff action")
        )
    if caregiver.enrolled_at is not None:
        entries.append(
            TimelineEntry(
                caregiver.enrolled_at,
                "status",
                "enrolled",
                caregiver.enrollment_keyword or "",
                "Enrollment",
            )
        )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries


def set_tags(session: Session, caregiver: Caregiver, *, tags: list[str], actor: Actor) -> None:
    """Replace the caregiver's tags (lowercase words used to target campaigns)."""
    # "Clinic East", "clinic_east" and "clinic-east" are one tag, not three.
    cleaned = sorted({_tag_form(tag) for tag in tags if tag.strip()})
    for tag in cleaned:
        if not _TAG.match(tag):
            raise CaregiverError(f"{tag!r} is not a tag (lowercase letters, digits, - and _)")
    caregiver.tags = [CaregiverTag(tag=tag) for tag in cleaned]
    session.flush()
    actor.audit(session, "caregiver.tags", caregiver, tags=cleaned)


def _tag_form(tag: str) -> str:
    return "-".join(tag.lower().replace("_", " ").replace("-", " ").split())


def tags_in_use(session: Session, *, scope: Scope) -> list[str]:
    """Every tag some caregiver of `scope` has, for staff to pick from (a partner's tags are its
    own: another partner's are not shown)."""
    statement = select(CaregiverTag.tag).where(scope.families(CaregiverTag.caregiver_id))
    return list(session.scalars(statement.distinct().order_by(CaregiverTag.tag)))


def undeliverable_reason(session: Session, caregiver: Caregiver) -> str | None:
    """Why the carrier says this number cannot get texts (the last error, in words, and
    when), or None for a caregiver who is not undeliverable."""
    if caregiver.status != "undeliverable":
        return None
    failed = session.execute(
        select(OutboundMessage.error_code, OutboundMessage.updated_at)
        .where(
            OutboundMessage.caregiver_id == caregiver.id, OutboundMessage.error_code.is_not(None)
        )
        .order_by(OutboundMessage.updated_at.desc())
        .limit(1)
    ).first()
    if failed is None:
        return "the carrier refused the number"
    return f"{in_words(failed.error_code)}, {failed.updated_at:%Y-%m-%d %H:%M} UTC"


def describe(caregiver: Caregiver) -> str:
    """A short label without personal data: masked phone, language and status."""
    return f"{mask(caregiver.phone)} · {caregiver.language} · {caregiver.status}"


def statuses() -> tuple[str, ...]:
    """The statuses a caregiver can have (for filters)."""
    return CAREGIVER_STATUSES
