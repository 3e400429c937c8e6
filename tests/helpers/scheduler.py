"""What a leading scheduler leaves behind, for tests of pages and checks that read it."""

from __future__ import annotations

from sqlalchemy import Engine

from jobs.scheduler import build_scheduler, register_jobs
from sms_service.core.settings import Settings


def lead_once(settings: Settings, engine: Engine) -> None:
    """Register the service's jobs as the leading scheduler does, then stop (the job table
    keeps the planner's next run)."""
    scheduler = build_scheduler(settings, engine=engine)
    scheduler.start(paused=True)
    try:
        register_jobs(scheduler, settings)
    finally:
        scheduler.shutdown(wait=True)
