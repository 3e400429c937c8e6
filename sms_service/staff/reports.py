"""Program figures for the dashboard, the API and `sms-tips stats`, counted in the database."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import Session

from sms_service.core.models import CAREGIVER_STATUSES, Caregiver, InboundMessage, OutboundMessage

ACCEPTED = ("sent", "delivered", "undelivered")
FAILED = ("failed", "undelivered")
WEEKS_CHARTED = 12
FUNNEL_DAYS = 30


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
    """What the dashboard shows."""

    enrolled: int
    by_status: dict[str, int]
    week_start: date
    week_sent: int
    week_delivered: int
    week_failed: int
    week_replied: int  # caregivers who texted in this week
    week_reached: int  # caregivers sent a text this week
    enrollments_per_week: list[tuple[date, int]] = field(default_factory=list)
    funnel: list[tuple[str, int]] = field(default_factory=list)

    @property
    def reply_rate(self) -> float | None:
        return self.week_replied / self.week_reached if self.week_reached else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["week_start"] = self.week_start.isoformat()
        data["enrollments_per_week"] = [
            {"week": week.isoformat(), "enrolled": count}
            for week, count in self.enrollments_per_week
        ]
        data["funnel"] = [{"step": step, "texts": count} for step, count in self.funnel]
        data["reply_rate"] = self.reply_rate
        return data


def week_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Monday 00:00 of this week in the program's zone."""
    today = now.astimezone(zone).date()
    return datetime.combine(today - timedelta(days=today.weekday()), time(0), tzinfo=zone)


def program_stats(session: Session, *, now: datetime, zone: ZoneInfo) -> ProgramStats:
    """Counts by caregiver status, this week's texts and replies, and the two charts' data."""
    by_status = {status: 0 for status in CAREGIVER_STATUSES}
    for status, count in session.execute(
        select(Caregiver.status, func.count()).group_by(Caregiver.status)
    ):
        by_status[status] = count
    enrolled = session.scalar(select(func.count()).where(Caregiver.enrolled_at.is_not(None)))
    start = week_start(now, zone)
    texts_this_week = OutboundMessage.sent_at >= start
    sent, delivered, failed, reached = session.execute(
        select(
            func.count().filter(OutboundMessage.state.in_(ACCEPTED)),
            func.count().filter(OutboundMessage.state == "delivered"),
            func.count().filter(OutboundMessage.state.in_(FAILED)),
            func.count(distinct(OutboundMessage.caregiver_id)).filter(
                OutboundMessage.state.in_(ACCEPTED)
            ),
        ).where(texts_this_week, OutboundMessage.kind != "reply")
    ).one()
    replied = session.scalar(
        select(func.count(distinct(InboundMessage.caregiver_id))).where(
            InboundMessage.received_at >= start, InboundMessage.caregiver_id.is_not(None)
        )
    )
    return ProgramStats(
        enrolled=enrolled or 0,
        by_status=by_status,
        week_start=start.date(),
        week_sent=sent,
        week_delivered=delivered,
        week_failed=failed,
        week_replied=replied or 0,
        week_reached=reached,
        enrollments_per_week=_enrollments_per_week(session, start),
        funnel=_funnel(session, now),
    )


def _enrollments_per_week(session: Session, this_week: datetime) -> list[tuple[date, int]]:
    starts = [this_week - timedelta(weeks=weeks) for weeks in range(WEEKS_CHARTED - 1, -1, -1)]
    ends = [*starts[1:], this_week + timedelta(weeks=1)]
    buckets = [
        func.sum(
            case((and_(Caregiver.enrolled_at >= low, Caregiver.enrolled_at < high), 1), else_=0)
        )
        for low, high in zip(starts, ends, strict=True)
    ]
    counts = session.execute(select(*buckets).where(Caregiver.enrolled_at >= starts[0])).one()
    return [(low.date(), int(count or 0)) for low, count in zip(starts, counts, strict=True)]


def _funnel(session: Session, now: datetime) -> list[tuple[str, int]]:
    since = now - timedelta(days=FUNNEL_DAYS)
    planned, accepted, delivered = session.execute(
        select(
            func.count(),
            func.count().filter(OutboundMessage.state.in_(ACCEPTED)),
            func.count().filter(OutboundMessage.state == "delivered"),
        ).where(OutboundMessage.created_at >= since, OutboundMessage.kind != "reply")
    ).one()
    return [("planned", planned), ("sent", accepted), ("delivered", delivered)]
