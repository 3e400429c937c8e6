"""`sms-tips dispatcher` (and the scheduler): the background processes, run on their own."""

from __future__ import annotations

import argparse
import asyncio
import signal
import threading
from types import FrameType

from sqlalchemy.orm import Session, sessionmaker

from jobs.dispatcher import Dispatcher
from jobs.scheduler import ActiveScheduler
from sms_service.cli.common import Subparsers, connect, load_settings
from sms_service.core import eventloop, metrics
from sms_service.core.db import build_sessionmaker
from sms_service.core.settings import Settings
from sms_service.delivery.transports import build_transport


def register(subparsers: Subparsers) -> None:
    scheduler = subparsers.add_parser(
        "scheduler",
        help="run the scheduler: weekly tip planning, aging out, campaign planning",
        description=(
            "Run the APScheduler jobs (tip planner every SMS_TIPS_PLANNER_INTERVAL_MINUTES, "
            "age-out hourly, campaign planner) with their job store in the service database. "
            "Only one scheduler per database is active (`serve` includes one); any other "
            "stands by and takes over within SMS_TIPS_SCHEDULER_TAKEOVER_SECONDS when the "
            "active one stops. Stops on SIGTERM or Ctrl-C after the running job finishes."
        ),
    )
    scheduler.set_defaults(handler=_scheduler)
    dispatcher = subparsers.add_parser(
        "dispatcher",
        help="send due texts from the outbox (run one or more; they never send a text twice)",
        description=(
            "Claim due outbox rows, re-check consent and the send window, and send them "
            "through Twilio (or the console without Twilio) at SMS_TIPS_SEND_RATE segments per "
            "second. Stops cleanly on SIGTERM or Ctrl-C, recording the texts in flight."
        ),
    )
    dispatcher.add_argument(
        "--once",
        action="store_true",
        help="send what is due now, then exit (instead of running until stopped)",
    )
    dispatcher.set_defaults(handler=_dispatcher)


def _scheduler(args: argparse.Namespace) -> int:
    settings = load_settings()
    engine = connect(settings)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request_stop)
    active = ActiveScheduler(
        settings,
        engine,
        on_lead=lambda jobs: print(f"scheduler: leading, running {jobs} jobs", flush=True),
        on_standby=lambda: print(
            "scheduler: standing by, another scheduler is active on this database", flush=True
        ),
    )
    active.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        active.stop()
        engine.dispose()
        metrics.process_exiting(settings.metrics_multiproc_dir)
    print("scheduler: stopped", flush=True)
    return 0


def _dispatcher(args: argparse.Namespace) -> int:
    settings = load_settings()
    engine = connect(settings)
    try:
        return eventloop.run(_dispatch(settings, build_sessionmaker(engine), once=args.once))
    finally:
        engine.dispose()


async def _dispatch(settings: Settings, sessions: sessionmaker[Session], *, once: bool) -> int:
    transport = build_transport(settings)
    dispatcher = Dispatcher(sessions=sessions, transport=transport, settings=settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await dispatcher.run(stop=stop, until_idle=once)
    finally:
        await transport.aclose()
    stats = dispatcher.stats
    print(
        f"dispatcher: {stats.sent} sent, {stats.reconciled} reconciled, {stats.retried} to retry, "
        f"{stats.cancelled} cancelled, {stats.deferred} deferred to the send window, "
        f"{stats.failed + stats.opted_out + stats.undeliverable} failed",
        flush=True,
    )
    return 0
