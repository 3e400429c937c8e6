"""Children who turn 36 months (week 156): a warm goodbye, then the child and caregiver complete.

The planner has no tips from week 156 on, so nothing else is sent for such a child. This job
finds them in pages of child ids, writes one "system" goodbye per child to the outbox (dedupe
key system:aged-out:{caregiver}:{child}, insert-or-ignore), marks the children completed and
completes each caregiver left with no active child. Only active caregivers get the goodbye:
nothing is ever sent to an opted-out or paused one. The goodbye is due at the caregiver's next
allowed local sending time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine, Row, select, update
from sqlalchemy.orm import Session

from content.render import render_tip
from content.segments import analyze
from jobs.runtime import runtime
from sms_service.caregivers.lifecycle import complete_caregivers
from sms_service.core import outbox
from sms_service.core.db import build_sessionmaker, transaction
from sms_service.core.models import Caregiver, CaregiverStatus, Child
from sms_service.core.settings import Settings
from sms_service.delivery.sendwindow import next_send_time

logger = logging.getLogger(__name__)

_ChildRow: TypeAlias = Row[*tuple[Any, ...]]

AGE_OUT_WEEK = 156  # 36 months: the last tips are for week 155
PAGE_SIZE = 1000
GOODBYE_NAME = "aged-out"
# Rendered like a tip ({child}/{Child}, the program prefix); both fit in 2 segments with a
# 24-character program name and a 20-character child name (tests/jobs/test_aging.py).
GOODBYES = {
    "en": (
        "{Child} turns 3 this week! This is our last text. Thank you for every song, hug and "
        "story you shared. Those moments help {child} grow. Keep enjoying them together."
    ),
    "es": (
        "¡{Child} cumple 3 años esta semana! Este es nuestro mensaje final. Gracias por cada "
        "canto, abrazo y cuento. Esos momentos ayudan a {child} a crecer. ¡Sigan disfrutando!"
    ),
}


@dataclass(frozen=True)
class AgingReport:
    """What one run did."""

    children_completed: int
    goodbyes: int
    caregivers_completed: int


def complete_aged_out(database: str) -> int:
    """Scheduler job: age out every child who reached week 156; returns children completed."""
    bound = runtime(database)
    return age_out(bound.engine, now=datetime.now(UTC), settings=bound.settings).children_completed


def age_out(engine: Engine, *, now: datetime, settings: Settings) -> AgingReport:
    """Complete children aged 156 weeks or more in their caregiver's local date, page by page."""
    sessions = build_sessionmaker(engine)
    # Nobody is 156 weeks old anywhere on Earth unless born this long before UTC's tomorrow.
    born_by = (now.astimezone(UTC) + timedelta(days=1)).date() - timedelta(weeks=AGE_OUT_WEEK)
    children = goodbyes = caregivers = 0
    after = 0
    while True:
        with transaction(sessions) as session:
            page = session.execute(
                select(
                    Child.id,
                    Child.name,
                    Child.birth_date,
                    Caregiver.id.label("caregiver_id"),
                    Caregiver.phone,
                    Caregiver.language,
                    Caregiver.timezone,
                    Caregiver.region,
                    Caregiver.status,
                )
                .join(Caregiver, Caregiver.id == Child.caregiver_id)
                .where(Child.status == "active", Child.birth_date <= born_by, Child.id > after)
                .order_by(Child.id)
                .limit(PAGE_SIZE)
            ).all()
        if not page:
            break
        after = page[-1].id
        aged = [row for row in page if _aged_out(row, now)]
        if not aged:
            continue
        # One page per transaction: a page that fails is logged and retried next run, and
        # the pages after it still go through.
        try:
            with transaction(sessions) as session:
                written = _write_goodbyes(session, aged, now=now, settings=settings)
                completed = _complete(session, aged, now)
        except Exception:
            logger.exception("aging out children %s..%s failed", aged[0].id, aged[-1].id)
            continue
        goodbyes += written
        children += len(aged)
        caregivers += completed
    if children:
        logger.info(
            "aged out %s children (%s goodbyes); %s caregivers completed",
            children,
            goodbyes,
            caregivers,
        )
    return AgingReport(children, goodbyes, caregivers)


def _local_now(row: _ChildRow, now: datetime) -> datetime | None:
    try:
        return now.astimezone(ZoneInfo(row.timezone))
    except (ZoneInfoNotFoundError, ValueError):
        logger.error("caregiver %s has an unknown time zone %r", row.caregiver_id, row.timezone)
        return None


def _aged_out(row: _ChildRow, now: datetime) -> bool:
    local = _local_now(row, now)
    return local is not None and (local.date() - row.birth_date).days // 7 >= AGE_OUT_WEEK


def goodbye_body(language: str, child_name: str | None, program_name: str) -> str:
    """The goodbye text for a child who turned 36 months."""
    return render_tip(
        GOODBYES[language],
        language=language,
        child_name=child_name,
        age_weeks=AGE_OUT_WEEK,
        program_name=program_name,
    )


def _write_goodbyes(
    session: Session, rows: list[_ChildRow], *, now: datetime, settings: Settings
) -> int:
    values: list[dict[str, Any]] = []
    for row in rows:
        local = _local_now(row, now)
        if row.status != CaregiverStatus.ACTIVE or local is None:
            continue
        body = goodbye_body(row.language, row.name, settings.program_name)
        values.append(
            {
                "dedupe_key": outbox.system_key(
                    name=GOODBYE_NAME, caregiver_id=row.caregiver_id, child_id=row.id
                ),
                "kind": "system",
                "caregiver_id": row.caregiver_id,
                "child_id": row.id,
                "to_number": row.phone,
                "body": body,
                "segments": analyze(body).segments,
                "state": "pending",
                "due_at": next_send_time(local, row.region, settings).astimezone(UTC),
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    if not values:
        return 0
    statement = outbox.insert_ignoring_duplicates(dialect=session.get_bind().dialect.name)
    session.execute(statement, values)
    return len(values)


def _complete(session: Session, rows: list[_ChildRow], now: datetime) -> int:
    caregiver_ids = sorted({row.caregiver_id for row in rows})
    # Caregiver rows first, then their children: the order an inbound text (an AGE answer)
    # takes them, so the two cannot deadlock on PostgreSQL.
    session.execute(
        select(Caregiver.id)
        .where(Caregiver.id.in_(caregiver_ids))
        .order_by(Caregiver.id)
        .with_for_update()
    )
    session.execute(
        update(Child)
        .where(Child.id.in_([row.id for row in rows]))
        .values(status="completed", completed_at=now)
    )
    return complete_caregivers(session, caregiver_ids, now=now)
