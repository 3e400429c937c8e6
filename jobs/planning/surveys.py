"""Survey questions planned like tips: set-based, at the family's weekly slot, within the cap.

Python puts the active surveys (one row per occasion kind, or per child age for surveys at
ages) and their first questions' texts into two small temporary tables. Then, per batch of
caregiver ids, set-based statements: one INSERT ... SELECT chooses the survey each due family
starts (its audience matched in SQL: language, tag, partner, child age; one survey at a time; the
week's cap not full) into a temporary table, one writes those survey_run rows, and one writes
their questions to the outbox, rendered in SQL like tips (render_sql.body_and_segments). The
choice goes through the temporary table so that no SELECT reads survey_run while its own
INSERT grows it (PostgreSQL would rescan the new rows for every family). The run's unique
(survey, caregiver, occasion) makes planning idempotent; the outbox text counts against the
week's cap like a tip, so a survey planned before the tips takes the week's place when the cap
is one text. Quiet hours and consent are checked by the dispatcher's last check, as for every
text.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    Table,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite

from content.languages import codes
from content.render import TODDLER_FROM_WEEK, fallback_name
from jobs.planning.candidates import days_between, weekly_slot
from jobs.planning.render_sql import (
    body_and_segments,
    capitalised,
    count_remaining_segments,
    learn_names,
    measured_text,
)
from jobs.planning.scratch import (
    name_table,
    survey_due_table,
    survey_start_table,
    survey_text_table,
)
from sms_service.core import outbox
from sms_service.core.models import (
    Caregiver,
    CaregiverStatus,
    CaregiverTag,
    Child,
    OutboundMessage,
    Survey,
    SurveyQuestion,
    SurveyRun,
    UTCDateTime,
)
from sms_service.core.weekly_cap import count_alone, texts_in_week_sql

DAYS_PER_MONTH = 30.4375
# A survey at an age (6, 12, 24 months) is asked in the four weeks after the child reaches it:
# a family whose slot fell on a paused week still gets it.
MILESTONE_DAYS = 28
# A family hears a few tips before its first survey.
SETTLED_AFTER = timedelta(weeks=4)
_RUN_COLUMNS = [
    *("survey_id", "caregiver_id", "child_id", "occasion"),
    *("state", "question_id", "reasked", "created_at"),
]


def survey_rows(
    surveys: list[Any], first_questions: dict[int, Any], *, now: datetime, program_name: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The plan_survey and plan_survey_text rows of the active `surveys` (pure)."""
    due: list[dict[str, Any]] = []
    texts: dict[int, list[dict[str, Any]]] = {}
    known = set(codes())
    for survey in surveys:
        question = first_questions.get(survey.id)
        if question is None:
            continue
        common = {
            "survey_id": survey.id,
            "question_id": question.id,
            "language": survey.language,
            "tag": survey.tag,
            "partner_id": survey.partner_id,
            "min_days": _days(survey.min_age_months, math.ceil),
            "max_days": _days(survey.max_age_months, math.floor),
            "asked_since": now - timedelta(weeks=survey.every_weeks)
            if survey.schedule == "every"
            else None,
            "milestone_days": None,
            "occasion": survey.schedule,
        }
        if survey.schedule == "at_age":
            for months in survey.at_age_months or []:
                due.append(
                    {
                        **common,
                        "milestone_days": _days(months, math.ceil),
                        "occasion": f"age:{months}",
                    }
                )
        else:
            due.append(common)
        texts[question.id] = [
            _text_row(question.id, language, wording["ask"], toddler, program_name)
            for language, wording in question.texts.items()
            if language in known
            for toddler in (False, True)
        ]
    for row_id, row in enumerate(due, start=1):
        row["row_id"] = row_id
    return due, [row for rows in texts.values() for row in rows]


def _days(months: int | None, rounding: Any) -> int | None:
    return None if months is None else int(rounding(months * DAYS_PER_MONTH))


def _text_row(
    question_id: int, language: str, text: str, toddler: bool, program_name: str
) -> dict[str, Any]:
    fallback = fallback_name(language, TODDLER_FROM_WEEK if toddler else 0)
    return {
        "question_id": question_id,
        "language": language,
        "toddler": toddler,
        **measured_text(prefix=f"{program_name}: ", text=text, fallback=fallback),
    }


def fill_surveys(connection: Connection, *, now: datetime, program_name: str) -> int:
    """Fill plan_survey and plan_survey_text from the active surveys; returns the occasions."""
    surveys = connection.execute(select(Survey.__table__).where(Survey.status == "active")).all()
    if not surveys:
        return 0
    questions = connection.execute(
        select(SurveyQuestion.__table__)
        .where(SurveyQuestion.survey_id.in_([survey.id for survey in surveys]))
        .order_by(SurveyQuestion.position.desc())
    ).all()
    first = {question.survey_id: question for question in questions}  # lowest position last
    due, texts = survey_rows(list(surveys), first, now=now, program_name=program_name)
    if due and texts:
        connection.execute(survey_due_table.insert(), due)
        connection.execute(survey_text_table.insert(), texts)
    return len(due) if texts else 0


def plan_survey_batch(
    connection: Connection,
    *,
    low: int,
    high: int,
    now: datetime,
    program_name: str,
    messages_per_week: int,
) -> int:
    """Start the due surveys of caregivers low..high and write their first questions to the
    outbox, within each household's weekly cap; returns the questions written."""
    dialect = connection.dialect.name
    learn_names(connection, low=low, high=high)
    count_alone(connection)  # the tip planner counts the same weeks
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    runs = SurveyRun.__table__
    assert isinstance(runs, Table)
    start = survey_start_table
    connection.execute(start.delete())
    connection.execute(
        start.insert().from_select(
            ["survey_id", "caregiver_id", "child_id", "occasion", "question_id"],
            _due_runs(dialect=dialect, low=low, high=high, now=now, cap=messages_per_week),
        )
    )
    connection.execute(
        insert(runs)
        .from_select(
            _RUN_COLUMNS,
            select(
                start.c.survey_id,
                start.c.caregiver_id,
                start.c.child_id,
                start.c.occasion,
                literal("open"),
                start.c.question_id,
                literal(False),
                literal(now, UTCDateTime()),
            ).where(true()),  # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT
        )
        .on_conflict_do_nothing(index_elements=["survey_id", "caregiver_id", "occasion"])
    )
    asked: int = connection.execute(
        outbox.insert_ignoring_duplicates(dialect=dialect)
        .from_select(
            *_question_texts(
                dialect=dialect, low=low, high=high, now=now, program_name=program_name
            )
        )
        .execution_options(preserve_rowcount=True)
    ).rowcount
    count_remaining_segments(
        connection, low=low, high=high, now=now, kind="survey", texts=survey_text_table
    )
    return asked


def _due_runs(*, dialect: str, low: int, high: int, now: datetime, cap: int) -> Any:
    """SELECT of the surveys to start: per due family, the first survey that fits it."""
    cg, ch, sv, tx = Caregiver.__table__, Child.__table__, survey_due_table, survey_text_table
    slot, slot_is_due = weekly_slot(cg)
    run = SurveyRun.__table__.alias("earlier_run")
    tag = CaregiverTag.__table__
    younger = ch.alias("younger")
    age_days = days_between(dialect=dialect, later=slot.c.local_date, earlier=ch.c.birth_date)
    occasion = case(
        (sv.c.asked_since.is_not(None), literal("every:") + slot.c.week_label),
        (sv.c.milestone_days.is_not(None), sv.c.occasion + ":" + cast(ch.c.id, String)),
        else_=sv.c.occasion,
    )
    audience = and_(
        or_(sv.c.language.is_(None), sv.c.language == cg.c.language),
        or_(
            sv.c.tag.is_(None), exists().where(tag.c.caregiver_id == cg.c.id, tag.c.tag == sv.c.tag)
        ),
        or_(sv.c.partner_id.is_(None), sv.c.partner_id == cg.c.partner_id),
        or_(sv.c.min_days.is_(None), age_days >= sv.c.min_days),
        or_(sv.c.max_days.is_(None), age_days <= sv.c.max_days),
        or_(
            sv.c.milestone_days.is_(None),
            age_days.between(sv.c.milestone_days, sv.c.milestone_days + MILESTONE_DAYS - 1),
        ),
        exists().where(tx.c.question_id == sv.c.question_id, tx.c.language == cg.c.language),
    )
    # The youngest active child names the survey's {child} and decides its age.
    youngest = ~exists().where(
        younger.c.caregiver_id == cg.c.id,
        younger.c.status == "active",
        or_(
            younger.c.birth_date > ch.c.birth_date,
            and_(younger.c.birth_date == ch.c.birth_date, younger.c.id > ch.c.id),
        ),
    )
    fits = (
        select(
            sv.c.survey_id,
            cg.c.id.label("caregiver_id"),
            ch.c.id.label("child_id"),
            occasion.label("occasion"),
            sv.c.question_id,
            func.row_number()
            .over(partition_by=cg.c.id, order_by=(sv.c.survey_id, sv.c.row_id))
            .label("pick"),
        )
        .select_from(
            cg.join(slot, slot_is_due).join(ch, ch.c.caregiver_id == cg.c.id).join(sv, audience)
        )
        .where(
            cg.c.id.between(low, high),
            cg.c.status == CaregiverStatus.ACTIVE,
            func.coalesce(cg.c.enrolled_at, cg.c.created_at) <= now - SETTLED_AFTER,
            ch.c.status == "active",
            youngest,
            ~exists().where(run.c.caregiver_id == cg.c.id, run.c.state == "open"),
            or_(
                sv.c.asked_since.is_(None),
                ~exists().where(
                    run.c.survey_id == sv.c.survey_id,
                    run.c.caregiver_id == cg.c.id,
                    run.c.created_at > sv.c.asked_since,
                ),
            ),
            ~exists().where(
                run.c.survey_id == sv.c.survey_id,
                run.c.caregiver_id == cg.c.id,
                run.c.occasion == occasion,
            ),
            texts_in_week_sql(caregiver_id=cg.c.id, week=slot.c.week_label) < cap,
        )
        .subquery("fits")
    )
    return select(
        fits.c.survey_id, fits.c.caregiver_id, fits.c.child_id, fits.c.occasion, fits.c.question_id
    ).where(fits.c.pick == 1)


def _question_texts(
    *, dialect: str, low: int, high: int, now: datetime, program_name: str
) -> tuple[list[str], Any]:
    """(columns, SELECT) of the outbox rows asking the runs this batch just started."""
    cg, ch, tx, names = Caregiver.__table__, Child.__table__, survey_text_table, name_table
    run = SurveyRun.__table__
    sent = OutboundMessage.__table__.alias("asked")
    slot, slot_is_due = weekly_slot(cg)
    age_days = days_between(dialect=dialect, later=slot.c.local_date, earlier=ch.c.birth_date)
    name = func.coalesce(names.c.clean, ch.c.name)
    name_cap = func.coalesce(names.c.clean_cap, capitalised(ch.c.name))
    body, segments = body_and_segments(
        tx.c, name=name, name_cap=name_cap, program_name=program_name
    )
    stamp = literal(now, UTCDateTime())
    values: dict[str, Any] = {
        "dedupe_key": literal("survey:") + cast(run.c.id, String),
        "kind": literal("survey"),
        "caregiver_id": cg.c.id,
        "child_id": ch.c.id,
        "survey_run_id": run.c.id,
        "to_number": cg.c.phone,
        "body": body,
        "segments": segments,
        "state": literal("pending"),
        "due_at": slot.c.due_at,
        "cap_week": slot.c.week_label,
        "attempts": literal(0),
        "created_at": stamp,
        "updated_at": stamp,
    }
    rows = (
        select(*values.values())
        .select_from(
            run.join(cg, cg.c.id == run.c.caregiver_id)
            .join(slot, slot_is_due)
            .join(ch, ch.c.id == run.c.child_id)
            .join(
                tx,
                and_(
                    tx.c.question_id == run.c.question_id,
                    tx.c.language == cg.c.language,
                    tx.c.toddler == (age_days >= 7 * TODDLER_FROM_WEEK),
                ),
            )
            .outerjoin(names, names.c.raw == ch.c.name)
        )
        .where(
            run.c.caregiver_id.between(low, high),
            run.c.created_at == stamp,
            run.c.state == "open",
            ~exists().where(sent.c.survey_run_id == run.c.id),
            true(),  # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT
        )
    )
    return list(values), rows
