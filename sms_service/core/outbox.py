"""The outbox's dedupe key of each kind of text, queueing one text, and the insert that skips
keys already taken."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Insert, SQLColumnExpression, String, Table, cast, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from content.segments import analyze
from sms_service.core.models import Caregiver, OutboundMessage, Partner

# Each key is unique in the outbox, so writing a text twice (a job run twice, or on two
# machines) leaves one row. Where a job renders a key in SQL, its builder stands next to the
# Python format and tests/core/test_outbox.py checks that the two agree on both databases.


def queue_text(
    session: Session,
    *,
    key: str,
    kind: str,
    caregiver_id: int,
    to_number: str,
    body: str,
    due_at: datetime,
    now: datetime,
    sender: str | None = None,
) -> OutboundMessage:
    """Add one pending text to the outbox (the dispatcher sends it from `due_at`, after its own
    last check of consent and the send window); flushed, so the row has its id."""
    row = OutboundMessage(
        dedupe_key=key,
        kind=kind,
        caregiver_id=caregiver_id,
        to_number=to_number,
        sender=sender,
        body=body,
        segments=analyze(body).segments,
        state="pending",
        due_at=due_at,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def sender_sql(*, caregiver_id: SQLColumnExpression[Any]) -> ColumnElement[str | None]:
    """The sender of a text to `caregiver_id` as SQL: their partner's own number or Messaging
    Service, NULL for the program's. A correlated subquery by primary keys, so a planner's one
    INSERT ... SELECT writes every row's sender without a query per partner or caregiver."""
    owner = aliased(Caregiver)  # apart from a Caregiver the outer query selects from
    sender: ColumnElement[str | None] = (
        select(Partner.sender)
        .join(owner, owner.partner_id == Partner.id)
        .where(owner.id == caregiver_id)
        .scalar_subquery()
    )
    return sender


def week_label(*, day: date) -> str:
    """The ISO week of `day` as tip keys spell it, e.g. 2026-W10."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def tip_key(*, caregiver_id: int, child_id: int, week: str) -> str:
    """tip:{caregiver}:{child}:{local ISO week}: one weekly tip per child and week."""
    return f"tip:{caregiver_id}:{child_id}:{week}"


def tip_key_sql(
    *,
    caregiver_id: SQLColumnExpression[Any],
    child_id: SQLColumnExpression[Any],
    week: SQLColumnExpression[Any],
) -> ColumnElement[str]:
    """tip_key as a SQL expression over columns."""
    key: ColumnElement[str] = (
        literal("tip:")
        + cast(caregiver_id, String)
        + literal(":")
        + cast(child_id, String)
        + literal(":")
        + week
    )
    return key


def campaign_key(*, campaign_message_id: int, caregiver_id: int) -> str:
    """campaign:{campaign message}:{caregiver}: a campaign never reaches anyone twice."""
    return f"campaign:{campaign_message_id}:{caregiver_id}"


def campaign_key_sql(
    *, campaign_message_id: int, caregiver_id: SQLColumnExpression[Any]
) -> ColumnElement[str]:
    """campaign_key as a SQL expression over the caregiver id column."""
    key: ColumnElement[str] = literal(f"campaign:{campaign_message_id}:") + cast(
        caregiver_id, String
    )
    return key


def system_key(*, name: str, caregiver_id: int, child_id: int) -> str:
    """system:{message name}:{caregiver}:{child}: each system message once per child."""
    return f"system:{name}:{caregiver_id}:{child_id}"


def invite_key(*, caregiver_id: int) -> str:
    """invite:{caregiver}: one invitation per number, however often its file is imported."""
    return f"invite:{caregiver_id}"


def reply_key(*, message_sid: str) -> str:
    """reply:{inbound MessageSid}: the one reply to an inbound text."""
    return f"reply:{message_sid}"


def staff_key(*, inbound_id: int, number: int) -> str:
    """staff:{inbound message}:{n}: a staff member's n-th answer to one parent text."""
    return f"staff:{inbound_id}:{number}"


def insert_ignoring_duplicates(*, dialect: str) -> Insert:
    """INSERT INTO outbound_message ... ON CONFLICT (dedupe_key) DO NOTHING, in `dialect`'s
    own INSERT construct (PostgreSQL's, else SQLite's)."""
    table = OutboundMessage.__table__
    assert isinstance(table, Table)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
