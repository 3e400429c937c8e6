"""Weekly tip planning: write the outbox rows of every caregiver whose local send time has come.

Planning is set-based. Python works out, for each (time zone, state) in use, which weekly
slots are due right now and which tips are the candidates for each age in weeks; both go into
two small temporary tables. One INSERT ... SELECT ... ON CONFLICT DO NOTHING per range of
caregiver ids then joins caregivers, children, those tables and the send history, picks the
next unseen tip per child (content.sequence's rule), keeps the children whose turn it is
within the household's weekly cap, renders the body in SQL and writes it.
Memory stays flat whatever the number of caregivers; running twice (or on two machines) plans
each tip once because of the dedupe key tip:{caregiver}:{child}:{local ISO week}
(sms_service.core.outbox). The parts are in jobs/planning: slots (the calendar), candidates
(each child's next tip), turns (siblings sharing the weekly cap), render_sql, scratch (the
temporary tables), batches (the insert) and welcome (a first tip right after enrolling).

Calendar decisions:
- A slot is the caregiver's send_weekday/send_hour on their local wall clock, moved into the
  allowed window (sms_service.delivery.sendwindow): an 18:00 slot stays 18:00 local across DST
  changes, a 22:00 slot moves to 08:00 the next day, a 21:00 slot in Florida to 08:00 the next day.
- A slot missed earlier the same local day (planner down, or enrolled at 10:00 for an 08:00
  slot) is planned late while that day's window is still open. A slot missed on an earlier day
  waits for next week: a tip on a day the caregiver did not choose is worse than one week less.
- The dedupe key uses the local ISO week of the day the tip is planned for, so a caregiver who
  changes time zone or send day mid-week gets at most one tip per child that week, and at
  most messages_per_week texts in all (the cap counts the outbox rows of that local week).
- Age in weeks = (local date - birth_date) // 7, negative while the baby is expected (prenatal
  tips); updating the birth date on arrival switches to baby tips by itself. Weeks >= 156 have
  no tips: jobs.aging says goodbye and completes the child.
- Bodies are rendered in SQL (prefix, then replace() of {child}/{Child} by the name or the
  fallback for the age and language), equal to content.render.render_tip: names render_tip
  would tidy (extra spaces, invisible characters, too long) or that hold characters outside
  GSM-7 go through content.render.written_name once per distinct name into a small temporary
  table (plan_name) that the query joins; the name keeps its accents as the parent wrote it.
  `segments` is computed in SQL too, except for tips holding characters whose cost SQL cannot
  count (GSM-7 extension characters, non-BMP characters): those rows are counted in Python
  in the same transaction, so every planned row has its true segment count.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from jobs.planning.batches import BATCH_CAREGIVERS, id_ranges, plan_batch
from jobs.planning.candidates import fill_candidates, first_tip_slot, weekly_slot
from jobs.planning.scratch import (
    due_slot_table,
    empty_scratch_tables,
    reset_scratch_tables,
    welcome_table,
)
from jobs.planning.slots import due_slot_rows
from jobs.planning.surveys import fill_surveys, plan_survey_batch
from jobs.planning.welcome import first_tip_rows
from jobs.runtime import runtime
from sms_service.caregivers.lifecycle import end_pauses
from sms_service.core import metrics
from sms_service.core.settings import Settings
from sms_service.surveys.questions import close_expired

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlanReport:
    """What one planner run did."""

    planned: int  # tip rows written to the outbox
    resumed: int  # paused caregivers whose pause ended
    batches: int
    asked: int = 0  # survey questions written to the outbox


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
    began = time.monotonic()
    try:
        report = _plan(engine, now=now, settings=settings, batch_size=batch_size)
    finally:
        metrics.PLANNER_RUN.labels(planner="tips").observe(time.monotonic() - began)
    metrics.PLANNER_ROWS.labels(planner="tips").inc(report.planned)
    metrics.PLANNER_ROWS.labels(planner="surveys").inc(report.asked)
    return report


def _plan(engine: Engine, *, now: datetime, settings: Settings, batch_size: int) -> PlanReport:
    planned = batches = asked = 0
    window = timedelta(hours=settings.survey_answer_window_hours)
    with engine.connect() as connection:
        with connection.begin():
            resumed = end_pauses(connection, now=now)
            close_expired(connection, now=now, window=window)
            slots = due_slot_rows(connection, now=now, settings=settings)
            first_tips = first_tip_rows(connection, now=now, settings=settings)
        if not slots and not first_tips:
            return PlanReport(0, resumed, 0)
        with connection.begin():
            reset_scratch_tables(connection)
            if slots:
                connection.execute(due_slot_table.insert(), slots)
            if first_tips:
                connection.execute(welcome_table.insert(), first_tips)
            candidates = fill_candidates(connection, program_name=settings.program_name, now=now)
            surveys = (
                fill_surveys(connection, now=now, program_name=settings.program_name)
                if slots
                else 0
            )
            ranges = id_ranges(connection, size=batch_size) if slots else []
        # First tips go first: the caregivers who just heard "You're signed up!".
        welcome_ids = [row["caregiver_id"] for row in first_tips]
        runs = [(first_tip_slot, min(welcome_ids), max(welcome_ids))] if welcome_ids else []
        runs += [(weekly_slot, low, high) for low, high in ranges]
        try:
            for slot_join, low, high in runs if candidates else []:
                batches += 1
                try:
                    with connection.begin():
                        if surveys and slot_join is weekly_slot:
                            # Before the tips: a survey due this week is asked in its place
                            # when the cap has room for one text only.
                            asked += plan_survey_batch(
                                connection,
                                low=low,
                                high=high,
                                now=now,
                                program_name=settings.program_name,
                                messages_per_week=settings.messages_per_week,
                            )
                        planned += plan_batch(
                            connection,
                            low=low,
                            high=high,
                            now=now,
                            program_name=settings.program_name,
                            messages_per_week=settings.messages_per_week,
                            slots=slot_join,
                        )
                except Exception:
                    logger.exception("planning caregivers %s..%s failed", low, high)
        finally:
            with connection.begin():
                empty_scratch_tables(connection)
    logger.info(
        "planned %s tips and %s survey questions in %s batches; %s pauses ended",
        planned,
        asked,
        batches,
        resumed,
    )
    return PlanReport(planned, resumed, batches, asked)
