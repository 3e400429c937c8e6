"""Siblings' turns: of a household's due children, only as many as its weekly cap has room for.

A phone gets at most messages_per_week texts a week, tips and campaigns together
(sms_service.core.weekly_cap), so siblings share the week's tip slots. They take turns rather
than share one combined text: each tip keeps its own wording, age and segment count, and each
child's tip sequence (candidates.py) stays as it is; a child simply gets its next tip on its
turn. The child whose last tip is oldest goes first (a child never tipped before first of
all), then the one with fewer tips, then the lower child id: with three children and one text
a week each child gets a tip every third week, and with two a week each gets two in three
(the last-tip rule alone would favour the lowest id on every tie). A sibling added later
waits its turn like the others rather than catching up on its own. Texts already planned for
the week (a campaign, or a tip planned by an earlier run) use up room first: they were
promised earlier, and a tip that waits loses nothing but one week of a sequence that goes on.
"""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.sql.selectable import Subquery

from sms_service.core.models import OutboundMessage
from sms_service.core.weekly_cap import NOT_COUNTED_STATES, texts_in_week_sql


def within_cap(choices: Subquery, *, messages_per_week: int) -> Subquery:
    """The rows of `choices` (one per due child: caregiver_id, child_id, week_label, ...) whose
    turn it is this week, at most the room left in each caregiver's week."""
    # Most households have one due child: counting siblings first lets CASE skip the history
    # lookups for them (SQLite evaluates a CASE branch only when it is taken).
    counted = select(
        choices, func.count().over(partition_by=choices.c.caregiver_id).label("siblings")
    ).subquery("siblings")
    c = counted.c
    earlier = OutboundMessage.__table__.alias("earlier")
    had = (
        earlier.c.child_id == c.child_id,
        earlier.c.kind == "tip",
        earlier.c.state.not_in(NOT_COUNTED_STATES),
    )
    shared = c.siblings > 1
    last_tip = case((shared, select(func.max(earlier.c.due_at)).where(*had).scalar_subquery()))
    tip_count = case((shared, select(func.count()).where(*had).scalar_subquery()))
    used = texts_in_week_sql(caregiver_id=c.caregiver_id, week=c.week_label)
    turn = func.row_number().over(
        partition_by=c.caregiver_id,
        order_by=(last_tip.nulls_first(), tip_count, c.child_id),
    )
    ranked = select(counted, turn.label("turn"), used.label("used")).subquery("ranked")
    r = ranked.c
    return (
        select(*(r[column.name] for column in choices.c))
        .where(r.turn <= messages_per_week - r.used)
        .subquery("turns")
    )
