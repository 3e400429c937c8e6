"""The household cap: which outbox texts count against a phone's weekly limit, and how many.

A caregiver is told "about N messages a week" (settings.messages_per_week), so tips and
campaign texts together stay within N per caregiver and local ISO week. Each counted outbox
row carries that week in `cap_week`; rows outside the cap (replies, STOP/HELP answers,
enrollment texts, the aging goodbye, campaigns staff marked as exceptions) leave it empty.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import SQLColumnExpression, func, select
from sqlalchemy.sql.elements import ColumnElement

from sms_service.core.models import OutboundMessage

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
