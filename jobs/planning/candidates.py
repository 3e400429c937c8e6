"""Tip candidates: each age's valid tips in content.sequence's order, and each child's next one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Integer, and_, cast, exists, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from content.render import fallback_name
from content.sequence import selection_key
from jobs.planning.experiments import assigning
from jobs.planning.render_sql import capitalised, measured_text
from jobs.planning.scratch import candidate_table, due_slot_table, name_table, welcome_table
from sms_service.core import outbox
from sms_service.core.models import Caregiver, CaregiverStatus, Child, OutboundMessage, Tip

# Ages are computed with integer division, which truncates towards zero in SQL; shifting the
# day count by a multiple of 7 first makes it floor division for babies up to 7,000 days
# before their due date (far beyond any prenatal tip).
_FLOOR_SHIFT_WEEKS = 1000


class TipRow(Protocol):
    """What planning reads of a tip (a models.Tip or a row of its table)."""

    id: str
    language: str
    min_week: int
    max_week: int
    text: str
    version: int
    retired_at: datetime | None


# Wording B's columns of a candidate row with no experiment.
NO_EXPERIMENT: dict[str, Any] = {
    "experiment_id": None,
    "share_b": None,
    "text_b": None,
    "base_units_b": None,
    "placeholders_b": None,
    "single_limit_b": None,
    "multi_limit_b": None,
    "exact_b": None,
}


def _experiment_columns(
    experiment: dict[str, Any] | None, *, prefix: str, fallback: str
) -> dict[str, Any]:
    """The candidate row's experiment columns: wording B measured like the tip's own text."""
    if experiment is None:
        return NO_EXPERIMENT
    measured = measured_text(prefix=prefix, text=experiment["wording_b"], fallback=fallback)
    return {
        "experiment_id": experiment["id"],
        "share_b": experiment["share_b"],
        "text_b": measured["text"],
        "base_units_b": measured["base_units"],
        "placeholders_b": measured["placeholders"],
        "single_limit_b": measured["single_limit"],
        "multi_limit_b": measured["multi_limit"],
        "exact_b": measured["exact"],
    }


def candidate_rows(
    tips: Iterable[TipRow],
    *,
    program_name: str,
    experiments: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The plan_candidate rows: for each language and week, its valid tips ranked by
    (max_week, min_week, id), the order content.sequence.next_tip picks them in; a tip in a
    running experiment (`experiments`, by tip id) carries its wording B too."""
    experiments = experiments or {}
    prefix = f"{program_name}: "
    by_language: dict[str, list[TipRow]] = {}
    for tip in tips:
        if tip.retired_at is None:
            by_language.setdefault(tip.language, []).append(tip)
    rows: list[dict[str, Any]] = []
    for language, language_tips in by_language.items():
        by_week: dict[int, list[TipRow]] = {}
        for tip in language_tips:
            for week in range(tip.min_week, tip.max_week + 1):
                by_week.setdefault(week, []).append(tip)
        for week, valid in sorted(by_week.items()):
            fallback = fallback_name(language, week)
            for rank, tip in enumerate(sorted(valid, key=selection_key), 1):
                rows.append(
                    {
                        "language": language,
                        "week": week,
                        "rank": rank,
                        "tip_id": tip.id,
                        "tip_version": tip.version,
                        **measured_text(prefix=prefix, text=tip.text, fallback=fallback),
                        **_experiment_columns(
                            experiments.get(tip.id), prefix=prefix, fallback=fallback
                        ),
                    }
                )
    return rows


def fill_candidates(connection: Connection, *, program_name: str, now: datetime) -> int:
    """Fill plan_candidate from the tips in use, with the wording B of the experiments still
    assigning at `now`; returns the number of rows."""
    tips = connection.execute(select(Tip.__table__).where(Tip.retired_at.is_(None)))
    experiments = assigning(connection, now=now)
    rows = candidate_rows(tips, program_name=program_name, experiments=experiments)
    if rows:
        connection.execute(candidate_table.insert(), rows)
    return len(rows)


def days_between(
    *, dialect: str, later: ColumnElement[Any], earlier: ColumnElement[Any]
) -> ColumnElement[Any]:
    """SQL: the whole days from the date `earlier` to the date `later`."""
    if dialect == "sqlite":
        days: ColumnElement[Any] = cast(func.julianday(later) - func.julianday(earlier), Integer)
    else:
        days = cast(later - earlier, Integer)
    return days


def _age_weeks(
    *, dialect: str, local_date: ColumnElement[Any], birth: ColumnElement[Any]
) -> ColumnElement[Any]:
    days = days_between(dialect=dialect, later=local_date, earlier=birth)
    shift = _FLOOR_SHIFT_WEEKS
    weeks: ColumnElement[Any] = (days + 7 * shift) // 7 - shift
    return weeks


def weekly_slot(caregiver: Any) -> tuple[Any, ColumnElement[bool]]:
    """The weekly schedule: caregivers whose (time zone, state, weekday, hour) slot is due."""
    slot = due_slot_table
    return slot, and_(
        slot.c.timezone == caregiver.c.timezone,
        slot.c.region == func.coalesce(caregiver.c.region, ""),
        slot.c.weekday == caregiver.c.send_weekday,
        slot.c.hour == caregiver.c.send_hour,
    )


def first_tip_slot(caregiver: Any) -> tuple[Any, ColumnElement[bool]]:
    """The first tip: caregivers who enrolled moments ago, each with a slot of its own."""
    slot = welcome_table
    return slot, slot.c.caregiver_id == caregiver.c.id


SlotJoin = Callable[[Any], tuple[Any, ColumnElement[bool]]]


def next_choices(*, dialect: str, low: int, high: int, slots: SlotJoin = weekly_slot) -> Subquery:
    """For each due child of caregivers low..high not yet planned this week: its next tip.
    `slots` says which caregivers are due, and for which local date, week and time."""
    cg = Caregiver.__table__
    ch = Child.__table__
    slot, slot_is_due = slots(cg)
    cand = candidate_table
    names = name_table
    sent = OutboundMessage.__table__
    planned = sent.alias("planned")
    option = cand.alias("option")
    age = _age_weeks(dialect=dialect, local_date=slot.c.local_date, birth=ch.c.birth_date)
    # The first candidate in rank order that this child has not had: the index on
    # (language, week, rank) yields them in order and the scan stops at the first unseen one.
    first_unseen = (
        select(option.c.rank)
        .where(
            option.c.language == cg.c.language,
            option.c.week == age,
            ~exists()
            .where(sent.c.child_id == ch.c.id, sent.c.tip_id == option.c.tip_id)
            .correlate(ch, option),
        )
        .order_by(option.c.rank)
        .limit(1)
        .correlate(cg, ch, slot)
        .scalar_subquery()
    )
    # Children already planned this week are left out before any ranking work (the unique
    # dedupe key would reject them anyway; this keeps the runs later that day cheap).
    not_yet_planned = ~exists().where(
        planned.c.dedupe_key
        == outbox.tip_key_sql(caregiver_id=cg.c.id, child_id=ch.c.id, week=slot.c.week_label)
    )
    return (
        select(
            cg.c.id.label("caregiver_id"),
            cg.c.phone,
            cg.c.language,
            ch.c.id.label("child_id"),
            func.coalesce(names.c.clean, ch.c.name).label("name"),
            func.coalesce(names.c.clean_cap, capitalised(ch.c.name)).label("name_cap"),
            slot.c.week_label,
            slot.c.due_at,
            cand.c.week,
            cand.c.tip_id,
            cand.c.tip_version,
            cand.c.text,
            cand.c.fallback,
            cand.c.fallback_cap,
            cand.c.base_units,
            cand.c.placeholders,
            cand.c.single_limit,
            cand.c.multi_limit,
            cand.c.exact,
            *(cand.c[name] for name in NO_EXPERIMENT),
        )
        .select_from(
            cg.join(slot, slot_is_due)
            .join(ch, ch.c.caregiver_id == cg.c.id)
            .join(
                cand,
                and_(
                    cand.c.language == cg.c.language,
                    cand.c.week == age,
                    cand.c.rank == first_unseen,
                ),
            )
            .outerjoin(names, names.c.raw == ch.c.name)
        )
        .where(
            cg.c.id.between(low, high),
            cg.c.status == CaregiverStatus.ACTIVE,
            ch.c.status == "active",
            not_yet_planned,
        )
        .subquery("choices")
    )
