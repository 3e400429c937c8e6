"""`sms-tips stats`: the dashboard's figures in the terminal, for a date range."""

from __future__ import annotations

import argparse
import json
import sys

from sms_service.cli.common import Subparsers, connect, load_settings
from sms_service.core.db import build_sessionmaker
from sms_service.core.models import utcnow
from sms_service.core.scope import NETWORK
from sms_service.reports.figures import range_report
from sms_service.reports.period import PRESETS, PeriodError, parse_period
from sms_service.reports.tips import tip_results
from sms_service.staff.reports import program_stats


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "stats",
        help="program figures: families by status, a range's texts, rates and tips",
        description="Print the dashboard's figures (last 4 weeks unless told otherwise).",
    )
    parser.add_argument("--range", choices=sorted(PRESETS), help="last week or last 4 weeks")
    parser.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="custom range start")
    parser.add_argument("--to", dest="last", metavar="YYYY-MM-DD", help="custom range end")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=_stats)


def _percent(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "-"


def _stats(args: argparse.Namespace) -> int:
    settings = load_settings()
    now = utcnow()
    try:
        period = parse_period(
            preset=args.range,
            first=args.first,
            last=args.last,
            today=now.astimezone(settings.zone).date(),
            zone=settings.zone,
        )
    except PeriodError as error:
        print(f"sms-tips stats: {error}", file=sys.stderr)
        return 2
    engine = connect(settings)
    try:
        with build_sessionmaker(engine)() as session:
            # The command line is the network's own: every partner's families.
            stats = program_stats(session, now=now, zone=settings.zone, scope=NETWORK)
            report = range_report(session, period=period, scope=NETWORK)
            tips = tip_results(session, period=period, scope=NETWORK)
    finally:
        engine.dispose()
    if args.json:
        print(
            json.dumps(
                {**stats.to_json(), **report.to_json(), "tips": [t.to_json() for t in tips]},
                indent=2,
            )
        )
        return 0
    statuses = ", ".join(f"{status} {count}" for status, count in stats.by_status.items())
    print(f"caregivers: enrolled {stats.enrolled}; {statuses} (total {stats.families})")
    print(
        f"{period.label}: sent {report.sent} (delivered {report.delivered}, undelivered "
        f"{report.undelivered}, awaiting a report {report.awaiting}), failed {report.failed}"
    )
    opt_out = f"{report.opt_out_rate:.1f}" if report.opt_out_rate is not None else "-"
    print(
        f"delivery rate {_percent(report.delivery_rate)}; opt-outs per 100 texts {opt_out}; "
        f"reply rate {_percent(report.reply_rate)} ({report.answered} of {report.answerable} "
        "tips and campaign texts answered within 48 h)"
    )
    for failure in report.failures:
        affected = f"{failure.texts} texts; families affected: {failure.families}"
        print(f"not delivered: {failure.words}: {affected}")
    weeks = " ".join(f"{week:%m-%d}:{count}" for week, count in stats.enrollments_per_week)
    print(f"enrollments per week: {weeks}")
    return 0
