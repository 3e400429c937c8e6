"""`sms-tips stats`: the dashboard's figures in the terminal."""

from __future__ import annotations

import argparse
import json

from sms_service.cli.common import Subparsers, connect, load_settings
from sms_service.core.db import build_sessionmaker
from sms_service.core.models import utcnow
from sms_service.staff.reports import program_stats


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "stats",
        help="program figures: caregivers by status, this week's texts, reply rate",
        description="Print the dashboard's figures.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=_stats)


def _stats(args: argparse.Namespace) -> int:
    settings = load_settings()
    engine = connect(settings)
    try:
        with build_sessionmaker(engine)() as session:
            stats = program_stats(session, now=utcnow(), zone=settings.zone)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(stats.to_json(), indent=2))
        return 0
    statuses = ", ".join(f"{status} {count}" for status, count in stats.by_status.items())
    rate = f"{stats.reply_rate:.0%}" if stats.reply_rate is not None else "-"
    print(f"caregivers: enrolled {stats.enrolled}; {statuses}")
    print(
        f"this week (since {stats.week_start}): sent {stats.week_sent}, delivered "
        f"{stats.week_delivered}, failed {stats.week_failed}; reply rate {rate} "
        f"({stats.week_replied} of {stats.week_reached} families)"
    )
    weeks = " ".join(f"{week:%m-%d}:{count}" for week, count in stats.enrollments_per_week)
    print(f"enrollments per week: {weeks}")
    print("last 30 days: " + ", ".join(f"{step} {count}" for step, count in stats.funnel))
    return 0
