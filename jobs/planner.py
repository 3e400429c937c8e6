"""Weekly tip planning: write the outbox rows of every caregiver whose local send time has come.

Planning is set-based. Python works out, for each (time zone, state) in use, which weekly
slots are due right now and which tips are the candidates for each age in weeks; both go into
two small temporary tables. One INSERT ... SELECT ... ON CONFLICT DO NOTHING per range of
caregiver ids then joins caregivers, children, those tables and the send history, picks the
next unseen tip per child (content.sequence's rule), renders the body in SQL and writes it.
Memory stays flat whatever the number of caregivers; running twice (or on two machines) plans
each tip once because of the dedupe key tip:{caregiver}:{child}:{local ISO week}
(sms_service.core.outbox).

Calendar decisions:
- A slot is the caregiver's send_weekday/send_hour on their local wall clock, moved into the
  allowed window (sms_service.delivery.sendwindow): an 18:00 slot stays 18:00 local across DST
  changes, a 22:00 slot moves to 08:00 the next day, a 21:00 slot in Florida to 08:00 the next day.
- A slot missed earlier the same local day (planner down, or enrolled at 10:00 for an 08:00
  slot) is planned late while that day's window is still open. A slot missed on an earlier day
  waits for next week: a tip on a day the caregiver did not choose is worse than one week less.
- The dedupe key uses the local ISO week of the day the tip is planned for, so a caregiver who
  changes time zone or send day mid-week gets at most one tip per child that week.
- Age in weeks = (local date - birth_date) // 7, negative while the baby is expected (prenatal
  tips); updating the birth date on arrival switches to baby tips by itself. Weeks >= 156 have
  no tips: jobs.aging says goodbye and completes the child.
- Bodies are rendered in SQL (prefix, then replace() of {child}/{Child} by the name or the
  fallback for the age and language), equal to content.render.render_tip: names render_tip
  would change (accents outside GSM-7, extra spaces, too long) are transliterated by
  content.render once per distinct name into a small temporary table that the query joins.
  `segments` is computed in SQL too, except for tips holding characters whose cost SQL cannot
  count (GSM-7 extension characters, non-BMP characters): those rows are counted in Python
  in the same transaction, so every planned row has its true segment count.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    Engine,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from content.render import MAX_NAME_LENGTH, fallback_name, transliterate_name
from content.segments import GSM_BASIC, GSM_EXTENSION, analyze
from content.sequence import selection_key
from jobs.runtime import runtime
from sms_service.caregivers.lifecycle import end_pauses
from sms_service.core import outbox
from sms_service.core.models import Caregiver, Child, OutboundMessage, Tip, UTCDateTime
from sms_service.core.settings import Settings
from sms_service.delivery.sendwindow import allowed_window, next_send_time

logger = logging.getLogger(__name__)

# Caregiver ids per INSERT ... SELECT: bounds each transaction (SQLite's single writer lock is
# released between batches, so webhooks are never held up for long) and the database's
# working memory for the window function.
BATCH_CAREGIVERS = 50_000
# Ages are computed with integer division, which truncates towards zero in SQL; shifting the
# day count by a multiple of 7 first makes it floor division for babies up to 7,000 days
# before their due date (far beyond any prenatal tip).
_FLOOR_SHIFT_WEEKS = 1000

_scratch = MetaData()
# The due (weekday, hour) slots of each (time zone, state) at this run's `now`.
due_slot_table = Table(
    "plan_due_slot",
    _scratch,
    Column("timezone", String(64), nullable=False),
    Column("region", String(8), nullable=False),  # "" when the state is unknown
    Column("weekday", SmallInteger, nullable=False),
    Column("hour", SmallInteger, nullable=False),
    Column("local_date", Date, nullable=False),
    Column("week_label", String(10), nullable=False),  # the local ISO week, e.g. 2026-W10
    Column("due_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("timezone", "region", "weekday", "hour"),
    prefixes=["TEMPORARY"],
)
# For each language and age in weeks, the valid tips in content.sequence's order (rank 1 first).
candidate_table = Table(
    "plan_candidate",
    _scratch,
    Column("language", String(5), nullable=False),
    Column("week", Integer, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("tip_id", String(64), nullable=False),
    Column("tip_version", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("fallback", String(40), nullable=False),  # {child} without a name, at this age
    Column("fallback_cap", String(40), nullable=False),  # {Child} without a name
    Column("base_units", Integer, nullable=False),  # prefix + text without the placeholders
    Column("placeholders", Integer, nullable=False),
    Column("single_limit", Integer, nullable=False),  # 160 (GSM-7) or 70 (UCS-2)
    Column("multi_limit", Integer, nullable=False),  # 153 or 67
    Column("exact", Boolean, nullable=False),  # False: SQL cannot count its segments
    PrimaryKeyConstraint("language", "week", "rank"),
    prefixes=["TEMPORARY"],
)

# Names that content.render.render_tip would change (accents outside GSM-7, extra spaces,
# too long), with what it makes of them; filled per batch, distinct names only.
name_table = Table(
    "plan_name",
    _scratch,
    Column("raw", String(40), primary_key=True),
    Column("clean", String(40), nullable=False),  # "" means: use the fallback
    Column("clean_cap", String(40), nullable=False),
    prefixes=["TEMPORARY"],
)

# Characters render_tip keeps unchanged in a name (GSM-7 letters and digits, space, . ' -).
_NAME_CHARS = "".join(sorted(c for c in GSM_BASIC if c.isalnum())) + " .'"
_SAFE_NAME_REGEX = f"^[A-Za-z0-9][{_NAME_CHARS}-]*$"
_UNSAFE_NAME_GLOB = f"*[^{_NAME_CHARS}-]*"


@dataclass(frozen=True)
class DueSlot:
    """One weekly slot (weekday, hour) of a time zone and state whose send time has come."""

    timezone: str
    region: str
    weekday: int
    hour: int
    local_date: date
    due_at: datetime  # the moved slot, in UTC

    @property
    def week_label(self) -> str:
        return outbox.week_label(day=self.local_date)


def due_slots(
    now: datetime, timezone: str, region: str | None, settings: Settings
) -> list[DueSlot]:
    """The slots of caregivers in `timezone`/`region` to plan at `now` (see the module notes)."""
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    today = local_now.date()
    _, end = allowed_window(region, settings)
    if local_now.time() >= end:
        return []
    slots: list[DueSlot] = []
    # A slot lands on today either from today or, moved out of last night's quiet hours,
    # from yesterday.
    for day in (today - timedelta(days=1), today):
        for hour in range(24):
            moved = next_send_time(datetime.combine(day, time(hour), tzinfo=zone), region, settings)
            if moved.date() == today and moved <= local_now:
                slot = DueSlot(
                    timezone, region or "", day.weekday(), hour, today, moved.astimezone(UTC)
                )
                slots.append(slot)
    return slots


@dataclass(frozen=True)
class PlanReport:
    """What one planner run did."""

    planned: int  # tip rows written to the outbox
    resumed: int  # paused caregivers whose pause ended
    batches: int


def plan_due_tips(database: str) -> int:
    """Scheduler job: plan every due tip now; returns the number of rows written."""
    bound = runtime(database)
    return plan(bound.engine, now=datetime.now(UTC), settings=bound.settings).planned


def plan(
    engine: Engine,
    *,
    now: datetime,
    settings: Settings,
    batch_size: int = BATCH_CAREGIVERS,
) -> PlanReport:
    """Plan the tips due at `now`: resume ended pauses, then write outbox rows batch by batch.

    Each batch commits on its own; a batch that fails is logged and the others still run
    (the next run retries it: planning is idempotent).
    """
    if now.tzinfo is None:
        raise ValueError("plan() needs an aware `now`")
    planned = batches = 0
    with engine.connect() as connection:
        with connection.begin():
            resumed = _resume_ended_pauses(connection, now)
            slots = _due_slot_rows(connection, now, settings)
        if not slots:
            return PlanReport(0, resumed, 0)
        with connection.begin():
            reset_scratch_tables(connection)
            connection.execute(due_slot_table.insert(), slots)
            candidates = _fill_candidates(connection, settings)
            ranges = _id_ranges(connection, batch_size)
        try:
            if candidates:
                for low, high in ranges:
                    batches += 1
                    try:
                        with connection.begin():
                            planned += _plan_batch(
                                connection, low, high, now=now, settings=settings
                            )
                    except Exception:
                        logger.exception("planning caregivers %s..%s failed", low, high)
        finally:
            with connection.begin():
                _empty_scratch(connection)
    logger.info("planned %s tips in %s batches; %s pauses ended", planned, batches, resumed)
    return PlanReport(planned, resumed, batches)


def _resume_ended_pauses(connection: Connection, now: datetime) -> int:
    return end_pauses(connection, now=now)


def reset_scratch_tables(connection: Connection) -> None:
    """Create the temporary planning tables on this connection if needed, empty."""
    # Temporary tables live as long as the pooled connection: made once, emptied every run
    # (creating and dropping them every few minutes would only churn the catalog).
    _scratch.create_all(connection, checkfirst=True)
    _empty_scratch(connection)


def _empty_scratch(connection: Connection) -> None:
    for table in _scratch.sorted_tables:
        connection.execute(table.delete())


def _due_slot_rows(
    connection: Connection, now: datetime, settings: Settings
) -> list[dict[str, Any]]:
    """The due slots that some active caregiver actually has (so quiet runs stay cheap)."""
    in_use = connection.execute(
        select(Caregiver.timezone, Caregiver.region, Caregiver.send_weekday, Caregiver.send_hour)
        .where(Caregiver.status == "active")
        .distinct()
    ).all()
    wanted: dict[tuple[str, str | None], set[tuple[int | None, int | None]]] = {}
    for timezone, region, weekday, hour in in_use:
        wanted.setdefault((timezone, region), set()).add((weekday, hour))
    rows: list[dict[str, Any]] = []
    for (timezone, region), slots_in_use in wanted.items():
        try:
            slots = due_slots(now, timezone, region, settings)
        except (ZoneInfoNotFoundError, ValueError):
            logger.error("caregivers with unknown time zone %r are not planned", timezone)
            continue
        rows.extend(
            {
                "timezone": slot.timezone,
                "region": slot.region,
                "weekday": slot.weekday,
                "hour": slot.hour,
                "local_date": slot.local_date,
                "week_label": slot.week_label,
                "due_at": slot.due_at,
            }
            for slot in slots
            if (slot.weekday, slot.hour) in slots_in_use
        )
    return rows


class TipRow(Protocol):
    """What planning reads of a tip (a models.Tip or a row of its table)."""

    id: str
    language: str
    min_week: int
    max_week: int
    text: str
    version: int
    retired_at: datetime | None


def candidate_rows(tips: Iterable[TipRow], program_name: str) -> list[dict[str, Any]]:
    """The plan_candidate rows: for each language and week, its valid tips ranked by
    (max_week, min_week, id), the order content.sequence.next_tip picks them in."""
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
        measured = {tip.id: _measure(prefix, tip.text) for tip in language_tips}
        for week, valid in sorted(by_week.items()):
            fallback = fallback_name(language, week)
            for rank, tip in enumerate(sorted(valid, key=selection_key), 1):
                units, placeholders, single, multi, exact = measured[tip.id]
                rows.append(
                    {
                        "language": language,
                        "week": week,
                        "rank": rank,
                        "tip_id": tip.id,
                        "tip_version": tip.version,
                        "text": tip.text,
                        "fallback": fallback,
                        "fallback_cap": fallback[:1].upper() + fallback[1:],
                        "base_units": units,
                        "placeholders": placeholders,
                        "single_limit": single,
                        "multi_limit": multi,
                        "exact": exact,
                    }
                )
    return rows


@functools.lru_cache(maxsize=8192)
def _measure(prefix: str, text: str) -> tuple[int, int, int, int, bool]:
    """(units without placeholders, placeholder count, single and multi-part limits, exact)."""
    bare = prefix + text.replace("{child}", "").replace("{Child}", "")
    placeholders = text.count("{child}") + text.count("{Child}")
    info = analyze(bare)
    if info.encoding == "GSM-7":
        exact = not any(char in GSM_EXTENSION for char in bare)
        return len(bare), placeholders, 160, 153, exact
    exact = all(ord(char) <= 0xFFFF for char in bare)
    return len(bare), placeholders, 70, 67, exact


def _fill_candidates(connection: Connection, settings: Settings) -> int:
    tips = connection.execute(select(Tip.__table__).where(Tip.retired_at.is_(None)))
    rows = candidate_rows(tips, settings.program_name)
    if rows:
        connection.execute(candidate_table.insert(), rows)
    return len(rows)


def _id_ranges(connection: Connection, size: int) -> list[tuple[int, int]]:
    low, high = connection.execute(select(func.min(Caregiver.id), func.max(Caregiver.id))).one()
    if low is None:
        return []
    return [(start, start + size - 1) for start in range(int(low), int(high) + 1, size)]


def _age_weeks(dialect: str, local_date: ColumnElement[Any], birth: ColumnElement[Any]) -> Any:
    if dialect == "sqlite":
        days = cast(func.julianday(local_date) - func.julianday(birth), Integer)
    else:
        days = cast(local_date - birth, Integer)
    shift = _FLOOR_SHIFT_WEEKS
    return (days + 7 * shift) // 7 - shift


def _name_is_safe(dialect: str, name: ColumnElement[Any]) -> ColumnElement[bool]:
    """True for a name render_tip would keep exactly as stored (so SQL can render it)."""
    if dialect == "sqlite":
        chars = and_(
            name.op("GLOB", is_comparison=True)("[A-Za-z0-9]*"),
            ~name.op("GLOB", is_comparison=True)(_UNSAFE_NAME_GLOB),
        )
    else:
        chars = name.op("~", is_comparison=True)(_SAFE_NAME_REGEX)
    return and_(
        chars,
        func.length(name) <= MAX_NAME_LENGTH,
        ~name.like("%  %"),
        ~name.like("% "),
    )


def next_choices(dialect: str, low: int, high: int) -> Subquery:
    """For each due child of caregivers low..high not yet planned this week: its next tip."""
    cg = Caregiver.__table__
    ch = Child.__table__
    slot = due_slot_table
    cand = candidate_table
    names = name_table
    sent = OutboundMessage.__table__
    planned = sent.alias("planned")
    option = cand.alias("option")
    age = _age_weeks(dialect, slot.c.local_date, ch.c.birth_date)
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
        )
        .select_from(
            cg.join(
                slot,
                and_(
                    slot.c.timezone == cg.c.timezone,
                    slot.c.region == func.coalesce(cg.c.region, ""),
                    slot.c.weekday == cg.c.send_weekday,
                    slot.c.hour == cg.c.send_hour,
                ),
            )
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
            cg.c.status == "active",
            ch.c.status == "active",
            not_yet_planned,
        )
        .subquery("choices")
    )


_OUTBOX_COLUMNS = (
    "dedupe_key",
    "kind",
    "caregiver_id",
    "child_id",
    "tip_id",
    "tip_version",
    "to_number",
    "body",
    "segments",
    "state",
    "due_at",
    "attempts",
    "created_at",
    "updated_at",
)


def _plan_batch(
    connection: Connection, low: int, high: int, *, now: datetime, settings: Settings
) -> int:
    dialect = connection.dialect.name
    _learn_names(connection, low, high)
    r = next_choices(dialect, low, high).c
    body, segments = body_and_segments(r, r.name, r.name_cap, settings.program_name)
    stamp = literal(now, UTCDateTime())
    rows = select(
        outbox.tip_key_sql(caregiver_id=r.caregiver_id, child_id=r.child_id, week=r.week_label),
        literal("tip"),
        r.caregiver_id,
        r.child_id,
        r.tip_id,
        r.tip_version,
        r.phone,
        body,
        segments,
        literal("pending"),
        r.due_at,
        literal(0),
        stamp,
        stamp,
    ).where(true())  # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT
    statement = (
        outbox.insert_ignoring_duplicates(dialect=dialect)
        .from_select(list(_OUTBOX_COLUMNS), rows)
        # SQLAlchemy drops an INSERT's rowcount unless asked to keep it.
        .execution_options(preserve_rowcount=True)
    )
    planned: int = connection.execute(statement).rowcount
    _count_remaining_segments(connection, low, high, now)
    return planned


def body_and_segments(
    candidate: Any, name: Any, name_cap: Any, program_name: str
) -> tuple[ColumnElement[str], ColumnElement[int]]:
    """SQL for content.render.render_tip's body and content.segments' count, given the
    plan_candidate columns (`candidate`) and a name render_tip would keep as it is."""
    c = candidate
    named = and_(name.is_not(None), name != "")
    child = case((named, name), else_=c.fallback)
    child_cap = case((named, name_cap), else_=c.fallback_cap)
    body = literal(f"{program_name}: ").concat(
        func.replace(func.replace(c.text, "{child}", child), "{Child}", child_cap)
    )
    units = c.base_units + c.placeholders * func.length(child)
    segments = case(
        (~c.exact, 0),
        (units <= c.single_limit, 1),
        else_=(units + c.multi_limit - 1) // c.multi_limit,
    )
    return body, segments


def capitalised(name: Any) -> ColumnElement[str]:
    """SQL for a name with its first letter upper-cased (ASCII first letters only)."""
    result: ColumnElement[str] = func.upper(func.substr(name, 1, 1)).concat(func.substr(name, 2))
    return result


def _learn_names(connection: Connection, low: int, high: int) -> None:
    """Put the batch's names that SQL cannot render as stored into plan_name, transliterated
    by content.render (distinct names only: a few per batch)."""
    dialect = connection.dialect.name
    ch = Child.__table__
    cg = Caregiver.__table__
    unsafe = (
        connection.execute(
            select(ch.c.name)
            .distinct()
            .select_from(ch.join(cg, cg.c.id == ch.c.caregiver_id))
            .where(
                cg.c.id.between(low, high),
                cg.c.status == "active",
                ch.c.status == "active",
                ch.c.name.is_not(None),
                ch.c.name != "",
                ~_name_is_safe(dialect, ch.c.name),
                ~exists().where(name_table.c.raw == ch.c.name),
            )
        )
        .scalars()
        .all()
    )
    if unsafe:
        rows = []
        for raw in unsafe:
            clean = transliterate_name(raw)
            rows.append({"raw": raw, "clean": clean, "clean_cap": clean[:1].upper() + clean[1:]})
        connection.execute(name_table.insert(), rows)


def _count_remaining_segments(connection: Connection, low: int, high: int, now: datetime) -> None:
    """Count in Python the segments SQL could not (rare tips with extension characters)."""
    inexact = select(candidate_table.c.tip_id).where(~candidate_table.c.exact).limit(1)
    if connection.execute(inexact).first() is None:
        return
    sent = OutboundMessage.__table__
    rows = connection.execute(
        select(sent.c.id, sent.c.body).where(
            sent.c.caregiver_id.between(low, high),
            sent.c.created_at == now,
            sent.c.kind == "tip",
            sent.c.segments == 0,
        )
    ).all()
    for message_id, body in rows:
        connection.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message_id)
            .values(segments=analyze(body).segments)
        )
