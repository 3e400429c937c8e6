"""The SQL twin of content.render: tip bodies and segment counts rendered in the database."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from content.render import MAX_NAME_LENGTH, written_name
from content.segments import GSM_BASIC, GSM_EXTENSION, analyze
from jobs.planning.scratch import candidate_table, name_table
from sms_service.core.models import Caregiver, CaregiverStatus, Child, OutboundMessage

# Names of only these characters (GSM-7 letters and digits, space, . ' -) SQL renders as
# stored, and they never change a tip's encoding; any other name goes through plan_name.
_NAME_CHARS = "".join(sorted(c for c in GSM_BASIC if c.isalnum())) + " .'"
_SAFE_NAME_REGEX = f"^[A-Za-z0-9][{_NAME_CHARS}-]*$"
_UNSAFE_NAME_GLOB = f"*[^{_NAME_CHARS}-]*"


@functools.lru_cache(maxsize=8192)
def measure(*, prefix: str, text: str) -> tuple[int, int, int, int, bool]:
    """(units without placeholders, placeholder count, single and multi-part limits, exact)."""
    bare = prefix + text.replace("{child}", "").replace("{Child}", "")
    placeholders = text.count("{child}") + text.count("{Child}")
    info = analyze(bare)
    if info.encoding == "GSM-7":
        exact = not any(char in GSM_EXTENSION for char in bare)
        return len(bare), placeholders, 160, 153, exact
    exact = all(ord(char) <= 0xFFFF for char in bare)
    return len(bare), placeholders, 70, 67, exact


def measured_text(*, prefix: str, text: str, fallback: str) -> dict[str, Any]:
    """The columns plan_candidate (and plan_survey_text) keep of a text: the text, {child}'s
    fallback and what `measure` says of it."""
    units, placeholders, single, multi, exact = measure(prefix=prefix, text=text)
    return {
        "text": text,
        "fallback": fallback,
        "fallback_cap": fallback[:1].upper() + fallback[1:],
        "base_units": units,
        "placeholders": placeholders,
        "single_limit": single,
        "multi_limit": multi,
        "exact": exact,
    }


def body_and_segments(
    candidate: Any, *, name: Any, name_cap: Any, program_name: str
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


def _name_is_safe(name: ColumnElement[Any], *, dialect: str) -> ColumnElement[bool]:
    """True for a name SQL can render as stored: render_tip keeps it, it stays GSM-7."""
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


def learn_names(connection: Connection, *, low: int, high: int) -> None:
    """Put the batch's names that SQL cannot render as stored into plan_name, as
    content.render writes them (distinct names only: a few per batch)."""
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
                cg.c.status == CaregiverStatus.ACTIVE,
                ch.c.status == "active",
                ch.c.name.is_not(None),
                ch.c.name != "",
                ~_name_is_safe(ch.c.name, dialect=dialect),
                ~exists().where(name_table.c.raw == ch.c.name),
            )
        )
        .scalars()
        .all()
    )
    if unsafe:
        rows = []
        for raw in unsafe:
            clean = written_name(raw)
            rows.append({"raw": raw, "clean": clean, "clean_cap": clean[:1].upper() + clean[1:]})
        connection.execute(name_table.insert(), rows)


def count_remaining_segments(
    connection: Connection,
    *,
    low: int,
    high: int,
    now: datetime,
    kind: str = "tip",
    texts: Table = candidate_table,
) -> None:
    """Count in Python the segments SQL could not: rare texts (`texts`: the tips, or the survey
    questions) with extension characters, and names from plan_name (an accent outside GSM-7
    makes the whole text UCS-2), in the `kind` rows this run wrote."""
    not_exact = ~texts.c.exact
    if "exact_b" in texts.c:  # a tip's wording B in an experiment counts as much as its own
        not_exact = or_(not_exact, texts.c.exact_b.is_(false()))
    inexact = select(texts.c.exact).where(not_exact).limit(1)
    learned = select(name_table.c.raw).limit(1)
    if connection.execute(inexact).first() is None and connection.execute(learned).first() is None:
        return
    sent = OutboundMessage.__table__
    ch = Child.__table__
    # Only this batch's children: unbounded, PostgreSQL scans every child for each batch and
    # tests each planned row against the whole list (found at 5 million caregivers).
    named_as_written = select(ch.c.id).where(
        ch.c.caregiver_id.between(low, high), ch.c.name.in_(select(name_table.c.raw))
    )
    rows = connection.execute(
        select(sent.c.id, sent.c.body).where(
            sent.c.caregiver_id.between(low, high),
            sent.c.created_at == now,
            sent.c.kind == kind,
            or_(sent.c.segments == 0, sent.c.child_id.in_(named_as_written)),
        )
    ).all()
    if rows:
        # One statement run for every row (executemany), not a statement per row.
        connection.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == bindparam("message_id"))
            .values(segments=bindparam("counted")),
            [{"message_id": row.id, "counted": analyze(row.body).segments} for row in rows],
        )
