"""Reading the inbox: filtered lists, one text with what it answers, states and assignment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from content.urgent import support_lines
from sms_service.core.answered import previous_text_id
from sms_service.core.audit import Actor
from sms_service.core.errors import NotFound
from sms_service.core.models import (
    INBOX_STATES,
    Caregiver,
    Child,
    InboundMessage,
    OutboundMessage,
    StaffUser,
)
from sms_service.core.scope import Scope

PAGE_SIZE = 50
OPEN_STATES = ("unread", "needs_reply")


class InboxError(Exception):
    """An inbox action that cannot be carried out, with the reason (shown to staff)."""


class InboxNotFound(NotFound):
    """No inbox text with this id that the viewer may see."""


@dataclass(frozen=True)
class InboxFilters:
    """What staff narrow the inbox to; empty values mean any."""

    state: str = "open"  # "open" (unread or needs reply), one of INBOX_STATES, or "all"
    language: str = ""
    tag: str = ""
    urgent_only: bool = False
    assigned_to_id: int | None = None
    since: date | None = None


@dataclass(frozen=True)
class InboxItem:
    """One parent text with what staff need to answer it well."""

    message: InboundMessage
    caregiver: Caregiver
    children: list[Child]
    answered_text: OutboundMessage | None  # the last text the family received before writing
    answers: list[OutboundMessage]  # staff answers to this text, oldest first
    support_lines: str | None  # for an urgent text


def open_message(
    session: Session, message_id: int, *, scope: Scope, lock: bool = False
) -> InboundMessage:
    """The inbox text with this id from a family of `scope` (locked for update when `lock`),
    or InboxNotFound."""
    statement = select(InboundMessage).where(
        InboundMessage.id == message_id,
        InboundMessage.inbox_state.is_not(None),
        scope.families(InboundMessage.caregiver_id),
    )
    message = session.scalar(statement.with_for_update() if lock else statement)
    if message is None:
        raise InboxNotFound(f"there is no inbox message {message_id}")
    return message


def list_inbox(
    session: Session, filters: InboxFilters, *, scope: Scope, page: int = 0
) -> list[tuple[InboundMessage, Caregiver]]:
    """A page of the texts of `scope`'s families: urgent first, then newest first."""
    statement = (
        select(InboundMessage, Caregiver)
        .join(Caregiver, Caregiver.id == InboundMessage.caregiver_id)
        .where(scope.families())
    )
    if filters.state in INBOX_STATES:
        statement = statement.where(InboundMessage.inbox_state == filters.state)
    elif filters.state == "open":
        statement = statement.where(InboundMessage.inbox_state.in_(OPEN_STATES))
    else:
        statement = statement.where(InboundMessage.inbox_state.is_not(None))
    if filters.language:
        statement = statement.where(Caregiver.language == filters.language)
    if filters.tag:
        statement = statement.where(Caregiver.tags.any(tag=filters.tag))
    if filters.urgent_only:
        statement = statement.where(InboundMessage.urgent.is_(True))
    if filters.assigned_to_id is not None:
        statement = statement.where(InboundMessage.assigned_to_id == filters.assigned_to_id)
    if filters.since is not None:
        statement = statement.where(
            InboundMessage.received_at >= datetime.combine(filters.since, datetime.min.time())
        )
    statement = statement.order_by(
        InboundMessage.urgent.desc(), InboundMessage.received_at.desc(), InboundMessage.id.desc()
    )
    rows = session.execute(statement.limit(PAGE_SIZE).offset(page * PAGE_SIZE))
    return [(message, caregiver) for message, caregiver in rows]


def open_count(session: Session, *, scope: Scope) -> int:
    """How many texts of `scope`'s families wait for staff (the navigation shows it)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(
                InboundMessage.inbox_state.in_(OPEN_STATES),
                scope.families(InboundMessage.caregiver_id),
            )
        )
        or 0
    )


def inbox_item(session: Session, message_id: int, *, scope: Scope) -> InboxItem:
    """One inbox text of a family of `scope`, its family and what it answers."""
    message = open_message(session, message_id, scope=scope)
    caregiver = session.scalar(
        select(Caregiver)
        .where(Caregiver.id == message.caregiver_id)
        .options(selectinload(Caregiver.children), joinedload(Caregiver.partner))
    )
    if caregiver is None:  # the inbox holds only texts of known caregivers
        raise InboxError(f"there is no inbox message {message_id}")
    answered = session.scalar(
        select(OutboundMessage).where(
            OutboundMessage.id == previous_text_id(caregiver.id, message.received_at)
        )
    )
    answers = session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.dedupe_key.startswith(f"staff:{message.id}:"))
        .order_by(OutboundMessage.id)
    )
    return InboxItem(
        message=message,
        caregiver=caregiver,
        children=[child for child in caregiver.children if child.status == "active"],
        answered_text=answered,
        answers=list(answers),
        support_lines=support_lines(caregiver.language) if message.urgent else None,
    )


def set_state(session: Session, message_id: int, state: str, *, actor: Actor) -> None:
    """Mark an inbox text unread, needing a reply, or done; audited."""
    message = open_message(session, message_id, scope=actor.scope, lock=True)
    if state not in INBOX_STATES:
        raise InboxError(f"{state!r} is not an inbox state")
    if message.inbox_state != state:
        message.inbox_state = state
        actor.audit(session, "inbox.state", message, state=state)


def assign(session: Session, message_id: int, staff_user_id: int | None, *, actor: Actor) -> None:
    """Give an inbox text to a staff member who may see its family (None: to nobody); audited."""
    message = open_message(session, message_id, scope=actor.scope, lock=True)
    if staff_user_id is not None:
        staff = session.get(StaffUser, staff_user_id)
        partner_id = session.scalar(
            select(Caregiver.partner_id).where(Caregiver.id == message.caregiver_id)
        )
        if (
            staff is None
            or not staff.is_active
            or not Scope(staff.partner_id).sees_partner(partner_id)
        ):
            raise InboxError("pick an active staff member who works with this family")
    message.assigned_to_id = staff_user_id
    actor.audit(session, "inbox.assign", message, staff_user_id=staff_user_id)


def staff_for(session: Session, item: InboxItem) -> list[StaffUser]:
    """The active staff who may see this text's family, to assign it to: the family's partner's
    staff and the network's."""
    return list(
        session.scalars(
            select(StaffUser)
            .where(
                StaffUser.is_active.is_(True),
                or_(
                    StaffUser.partner_id.is_(None),
                    StaffUser.partner_id == item.caregiver.partner_id,
                ),
            )
            .order_by(StaffUser.email)
        )
    )
