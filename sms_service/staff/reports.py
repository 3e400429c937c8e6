"""Program figures for the dashboard, the API and `sms-tips stats`: families, enrollments."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from sms_service.core.models import CAREGIVER_STATUSES, Caregiver
from sms_service.core.scope import Scope

WEEKS_CHARTED = 12


@dataclass(frozen=True)
class SchedulerStatus:
    """Whether weekly planning is happening, from the active scheduler's stored next run."""

    next_run: datetime | None  # None: no scheduler has ever run on this database
    overdue: bool  # the next run is more than one planning interval late: none is running


def scheduler_status(
    next_run: datetime | None, *, now: datetime, interval: timedelta
) -> SchedulerStatus:
    """A running scheduler keeps its planner's next run less than one interval ahead."""
    return SchedulerStatus(next_run, next_run is not None and next_run < now - interval)


@dataclass(frozen=True)
class ProgramStats:
    """Families by status (they add up to `families`) and enrollments per week; a range's
    texts, rates and per-tip results are in sms_service.reports."""

    enrolled: int
    by_status: dict[str, int]
    week_start: date
    enrollments_per_week: list[tuple[date, int]] = field(default_factory=list)

    @property
    def families(self) -> int:
        """Every caregiver on record, whatever their status."""
        return sum(self.by_status.values())

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["families"] = self.families
        data["week_start"] = self.week_start.isoformat()
        data["enrollments_per_week"] = [
            {"week": week.isoformat(), "enrolled": count}
            for week, count in self.enrollments_per_week
        ]
        return data


def week_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Monday 00:00 of this week in the program's zone."""
    today = now.astimezone(zone).date()
    return datetime.combine(today - timedelta(days=today.weekday()), time(0), tzinfo=zone)


def program_stats(session: Session, *, now: datetime, zone: ZoneInfo, scope: Scope) -> ProgramStats:
    """`scope`'s families by status and the enrollments chart's data."""
    mine = scope.families()
    by_status = {status: 0 for status in CAREGIVER_STATUSES}
    for status, count in session.execute(
        select(Caregiver.status, func.count()).where(mine).group_by(Caregiver.status)
    ):
        by_status[status] = count
    enrolled = session.scalar(select(func.count()).where(mine, Caregiver.enrolled_at.is_not(None)))
    start = week_start(now, zone)
    return ProgramStats(
        enrolled=enrolled or 0,
        by_status=by_status,
        week_start=start.date(),
        enrollments_per_week=_enrollments_per_week(session, start, mine),
    )


def _enrollments_per_week(
    session: Session, this_week: datetime, mine: ColumnElement[bool]
) -> list[tuple[date, int]]:
    starts = [this_week - timedelta(weeks=weeks) for weeks in range(WEEKS_CHARTED - 1, -1, -1)]
    ends = [*starts[1:], this_week + timedelta(weeks=1)]
    buckets = [
        func.sum(
            case((and_(Caregiver.enrolled_at >= low, Caregiver.enrolled_at < high), 1), else_=0)
        )
        for low, high in zip(starts, ends, strict=True)
    ]
    counts = session.execute(select(*buckets).where(mine, Caregiver.enrolled_at >= starts[0])).one()
    return [(low.date(), int(count or 0)) for low, count in zip(starts, counts, strict=True)]
