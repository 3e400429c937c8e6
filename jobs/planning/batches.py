"""One batch of planning: the outbox rows of a range of caregiver ids, in one INSERT ... SELECT."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, case, func, literal, select, true
from sqlalchemy.sql.elements import ColumnElement

from jobs.planning.candidates import SlotJoin, next_choices, weekly_slot
from jobs.planning.experiments import arm_sql, register_sqlite_bucket
from jobs.planning.render_sql import body_and_segments, count_remaining_segments, learn_names
from jobs.planning.turns import within_cap
from sms_service.core import outbox
from sms_service.core.models import Caregiver, UTCDateTime
from sms_service.core.weekly_cap import count_alone

# Caregiver ids per INSERT ... SELECT: bounds each transaction (SQLite's single writer lock is
# released between batches, so webhooks are never held up for long) and the database's
# working memory for the query.
BATCH_CAREGIVERS = 50_000


def id_ranges(connection: Connection, *, size: int) -> list[tuple[int, int]]:
    """Caregiver id ranges (low, high), `size` ids each, covering every caregiver."""
    low, high = connection.execute(select(func.min(Caregiver.id), func.max(Caregiver.id))).one()
    if low is None:
        return []
    return [(start, start + size - 1) for start in range(int(low), int(high) + 1, size)]


# The candidate columns that say what a family reads; wording B has its own of each.
_WORDING_COLUMNS = (
    "text",
    "base_units",
    "placeholders",
    "single_limit",
    "multi_limit",
    "exact",
)


def _wording(r: Any) -> SimpleNamespace:
    """The candidate columns body_and_segments reads, wording B's where the arm is B."""
    is_b = r.arm == "B"
    chosen = {name: case((is_b, r[f"{name}_b"]), else_=r[name]) for name in _WORDING_COLUMNS}
    return SimpleNamespace(fallback=r.fallback, fallback_cap=r.fallback_cap, **chosen)


def plan_batch(
    connection: Connection,
    *,
    low: int,
    high: int,
    now: datetime,
    program_name: str,
    messages_per_week: int,
    slots: SlotJoin = weekly_slot,
) -> int:
    """Write the due tips of caregivers low..high, within each household's weekly cap, to the
    outbox; returns the rows written. `slots` picks the weekly schedule or first tips."""
    dialect = connection.dialect.name
    count_alone(connection)
    learn_names(connection, low=low, high=high)
    choices = next_choices(dialect=dialect, low=low, high=high, slots=slots)
    if dialect == "sqlite":
        register_sqlite_bucket(connection)
    turns = within_cap(choices, messages_per_week=messages_per_week)
    t = turns.c
    arm = arm_sql(
        dialect=dialect,
        experiment_id=t.experiment_id,
        caregiver_id=t.caregiver_id,
        share_b=t.share_b,
    )
    # The arm once per row, in a subquery: the wording's columns below all read it.
    r = select(turns, arm.label("arm")).subquery("armed").c
    body, segments = body_and_segments(
        _wording(r), name=r.name, name_cap=r.name_cap, program_name=program_name
    )
    stamp = literal(now, UTCDateTime())
    values: dict[str, ColumnElement[Any]] = {
        "dedupe_key": outbox.tip_key_sql(
            caregiver_id=r.caregiver_id, child_id=r.child_id, week=r.week_label
        ),
        "kind": literal("tip"),
        "caregiver_id": r.caregiver_id,
        "child_id": r.child_id,
        "tip_id": r.tip_id,
        "tip_version": r.tip_version,
        "to_number": r.phone,
        "sender": outbox.sender_sql(caregiver_id=r.caregiver_id),
        "body": body,
        "segments": segments,
        "state": literal("pending"),
        "due_at": r.due_at,
        "cap_week": r.week_label,
        "attempts": literal(0),
        "created_at": stamp,
        "updated_at": stamp,
        "experiment_id": r.experiment_id,
        "arm": r.arm,
    }
    # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT.
    rows = select(*values.values()).where(true())
    statement = (
        outbox.insert_ignoring_duplicates(dialect=dialect)
        .from_select(list(values), rows)
        # SQLAlchemy drops an INSERT's rowcount unless asked to keep it.
        .execution_options(preserve_rowcount=True)
    )
    planned: int = connection.execute(statement).rowcount
    count_remaining_segments(connection, low=low, high=high, now=now)
    return planned
