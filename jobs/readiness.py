"""Is this deployment ready to serve families: database, schema and an active scheduler."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from jobs.scheduler import planner_next_run
from sms_service.core.checks import Check
from sms_service.core.db import schema_revisions
from sms_service.core.settings import Settings
from sms_service.staff.reports import scheduler_status


def readiness_checks(session: Session, settings: Settings, *, now: datetime) -> list[Check]:
    """The checks /readyz and `sms-tips doctor` share; the session must reach the database."""
    current, head = schema_revisions(session.connection())
    if current == head:
        schema = Check("schema", True, f"at the latest revision ({head})")
    else:
        schema = Check(
            "schema",
            False,
            f"at {current or 'no revision'}, code needs {head}: run sms-tips db upgrade",
        )
    if current is None:  # no tables: the scheduler's job table cannot be read either
        return [Check("database", True, "reachable"), schema]
    interval = timedelta(minutes=settings.planner_interval_minutes)
    status = scheduler_status(planner_next_run(session), now=now, interval=interval)
    if status.next_run is None:
        scheduler = Check(
            "scheduler", False, "no scheduler has run on this database: start sms-tips scheduler"
        )
    elif status.overdue:
        scheduler = Check(
            "scheduler",
            False,
            f"planning is overdue since {status.next_run:%Y-%m-%d %H:%M} UTC: "
            "no scheduler is leading",
        )
    else:
        scheduler = Check("scheduler", True, f"leading; next planning {status.next_run:%H:%M} UTC")
    return [Check("database", True, "reachable"), schema, scheduler]
