"""The APScheduler instance: its job store, its defaults, the jobs it runs, and when it runs them.

Only ONE scheduler may be active on a database. APScheduler 3.x's SQLAlchemy job store has no
locking: two schedulers sharing it would both run every job (harmless for our idempotent
jobs, but twice the load) and race on next_run_time updates. So every scheduler starts
paused and runs its jobs only while it holds the leader lock (jobs.leadership); the others
stand by and take over when the leader's process ends. `sms-tips serve` runs one in-process
for local use; production runs `sms-tips scheduler`, one or more (for a fast take-over).

Jobs are stored by reference ("module:function") with one primitive argument, a key naming the
database (jobs.runtime: never its password), because the job store pickles them and silently
drops jobs it cannot restore. The leader re-adds them when it takes the lead, with fixed ids
and replace_existing=True, so a changed interval or a renamed function takes effect then and
never leaves a stale duplicate behind."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MISSED,
    EVENT_SCHEDULER_SHUTDOWN,
    JobExecutionEvent,
    SchedulerEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from jobs import runtime
from jobs.leadership import Election, leader_lock
from sms_service.core import metrics
from sms_service.core.db import build_engine
from sms_service.core.settings import Settings

logger = logging.getLogger(__name__)

PLANNER_JOB_ID = "tip-planner"
AGING_JOB_ID = "age-out"
CAMPAIGN_PLANNER_JOB_ID = "campaign-planner"
JOBS_TABLE = "apscheduler_jobs"

JOB_DEFAULTS: dict[str, Any] = {
    # After downtime (a deploy, a laptop asleep) run a job once, not once per missed interval:
    # each run plans everything due, so catching up N times would only repeat the same work.
    "coalesce": True,
    # A slow run (a big Monday, a locked SQLite file) must not overlap the next one: two runs
    # of the same job would contend for the same rows and locks for no gain.
    "max_instances": 1,
    # APScheduler's default of 1 s skips a run that starts a little late (busy CPU, GC pause,
    # a restart); with coalesce on, a late run is still the right run, so allow 10 minutes.
    "misfire_grace_time": 600,
}
AGING_INTERVAL_MINUTES = 60


def build_scheduler(settings: Settings, *, engine: Engine) -> BackgroundScheduler:
    """A configured, not yet started scheduler whose job store is the service's database; its
    jobs run on the same engine (the caller owns it and disposes of it)."""
    key = runtime.bind(settings, engine)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
        # Two threads: the tip planner and the campaign planner may run side by side; each job
        # still never overlaps itself (max_instances=1).
        executors={"default": ThreadPoolExecutor(max_workers=2)},
        job_defaults=JOB_DEFAULTS,
        timezone="UTC",
    )
    scheduler.add_listener(_log_job_problem, EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    def release(event: SchedulerEvent) -> None:
        runtime.unbind(key, engine)

    scheduler.add_listener(release, EVENT_SCHEDULER_SHUTDOWN)
    return scheduler


def register_jobs(scheduler: BackgroundScheduler, settings: Settings) -> None:
    """Add (or replace) the service's jobs under their fixed ids, each due at once."""
    args = [runtime.database_key(settings.database_url)]
    # Replacing a job recomputes its next run from the trigger; starting the interval from
    # "now" (every job is idempotent) means a service restarted more often than the interval
    # still plans, and a fresh start plans without waiting.
    first_run = datetime.now(UTC)
    jobs = (
        (PLANNER_JOB_ID, "jobs.planner:plan_due_tips", settings.planner_interval_minutes,
         "plan weekly tips whose local send time has come"),
        (AGING_JOB_ID, "jobs.aging:complete_aged_out", AGING_INTERVAL_MINUTES,
         "say goodbye to children who turned 36 months"),
        (CAMPAIGN_PLANNER_JOB_ID, "jobs.campaign_planner:plan_due_campaigns",
         settings.planner_interval_minutes, "plan due campaign messages"),
    )  # fmt: skip
    for job_id, function, minutes, name in jobs:
        scheduler.add_job(
            function,
            trigger="interval",
            minutes=minutes,
            args=args,
            id=job_id,
            name=name,
            replace_existing=True,
            next_run_time=first_run,
        )


def planner_next_run(session: Session) -> datetime | None:
    """When the active scheduler will next plan tips, as stored in its job table; None when no
    scheduler has ever run on this database. A time well in the past means none is running."""
    if not inspect(session.connection()).has_table(JOBS_TABLE):
        return None
    stamp = session.execute(
        text(f"SELECT next_run_time FROM {JOBS_TABLE} WHERE id = :id"), {"id": PLANNER_JOB_ID}
    ).scalar_one_or_none()
    return datetime.fromtimestamp(stamp, UTC) if stamp is not None else None


def _log_job_problem(event: JobExecutionEvent) -> None:
    # APScheduler already catches a job's exception (the scheduler keeps running); this makes
    # sure it is logged with the job id even when its own logger is silenced.
    if event.exception is not None:
        logger.error("job %s failed: %s", event.job_id, event.exception, exc_info=event.exception)
    else:
        logger.warning("job %s missed its run time %s", event.job_id, event.scheduled_run_time)


class ActiveScheduler:
    """This process's scheduler: started paused, it runs the jobs only while it leads
    (jobs.leadership), so any number may run and exactly one is active."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        on_lead: Callable[[int], None] | None = None,
        on_standby: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.scheduler = build_scheduler(settings, engine=engine)
        self.leading = threading.Event()
        self._on_lead = on_lead
        self._on_standby = on_standby
        self._election = Election(
            leader_lock(engine),
            on_elected=self._lead,
            on_lost=self._step_down,
            on_standby=self._stand_by,
            poll_seconds=settings.scheduler_takeover_seconds,
        )

    def start(self) -> None:
        self.scheduler.start(paused=True)
        self._election.start()

    def stop(self) -> None:
        """Stop running jobs and step down (again: nothing happens)."""
        self._election.stop()
        # wait=True lets a running planner batch commit instead of being cut off; the lock
        # goes last, so no other scheduler starts the same job while this one finishes it.
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self._election.release()
        self.leading.clear()
        metrics.SCHEDULER_LEADER.set(0)

    def _lead(self) -> None:
        # Replace the stored jobs before any of them runs (a changed interval applies now).
        register_jobs(self.scheduler, self.settings)
        self.scheduler.resume()
        self.leading.set()
        metrics.SCHEDULER_LEADER.set(1)
        jobs = len(self.scheduler.get_jobs())
        logger.info("scheduler leads: running %d jobs", jobs)
        if self._on_lead is not None:
            self._on_lead(jobs)

    def _stand_by(self) -> None:
        logger.info("another scheduler is active on this database; standing by")
        if self._on_standby is not None:
            self._on_standby()

    def _step_down(self) -> None:
        self.scheduler.pause()
        self.leading.clear()
        metrics.SCHEDULER_LEADER.set(0)


@dataclass
class SchedulerService:
    """The scheduler as a BackgroundService of `sms-tips serve` (context.BackgroundService)."""

    settings: Settings
    name: str = "scheduler"
    _active: ActiveScheduler | None = field(default=None, init=False, repr=False)
    _engine: Engine | None = field(default=None, init=False, repr=False)

    async def start(self) -> None:
        self._engine = build_engine(self.settings.database_url)
        active = ActiveScheduler(self.settings, self._engine)
        # Job store I/O happens here, so keep it off the event loop.
        await asyncio.to_thread(active.start)
        self._active = active

    async def stop(self) -> None:
        if self._active is not None:
            await asyncio.to_thread(self._active.stop)
            self._active = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
