"""The household cap: which outbox texts count against a phone's weekly limit, and how many.

A caregiver is told "about N messages a week" (settings.messages_per_week), so tips and
campaign texts together stay within N per caregiver and local ISO week. Each counted outbox
row carries that week in `cap_week`; rows outside the cap (replies, STOP/HELP answers,
enrollment texts, the aging goodbye, campaigns staff marked as exceptions) leave it empty.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Connection, SQLColumnExpression, func, select, text
from sqlalchemy.sql.elements import ColumnElement

from sms_service.core.models import OutboundMessage

# A transaction-scoped PostgreSQL advisory lock that the tip and campaign planners take before
# they count and write: one planner's rows are committed before the other counts them.
_COUNTING_KEY = int.from_bytes(
    hashlib.sha256(b"sms-tips/weekly-cap").digest()[:8], "big", signed=True
)
# A text that will never reach the phone does not use up the week.
NOT_COUNTED_STATES = ("cancelled", "failed", "undelivered")


def texts_in_week_sql(
    *, caregiver_id: SQLColumnExpression[Any], week: SQLColumnExpression[Any]
) -> ColumnElement[int]:
    """SQL: how many of the caregiver's texts already count against the cap of `week`."""
    sent = OutboundMessage.__table__.alias("counted")
    count: ColumnElement[int] = (
        select(func.count())
        .where(
            sent.c.caregiver_id == caregiver_id,
            sent.c.cap_week == week,
            sent.c.state.not_in(NOT_COUNTED_STATES),
        )
        .scalar_subquery()
    )
    return count


def count_alone(connection: Connection) -> None:
    """Hold the weekly counts until this transaction ends, so two planners running side by
    side cannot both see a free week and both fill it. SQLite needs nothing: its writers
    take the database lock when the transaction begins."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _COUNTING_KEY})
