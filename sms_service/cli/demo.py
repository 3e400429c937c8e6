"""`sms-tips demo`: fill an empty local database with demo families and their history."""

from __future__ import annotations

import argparse
import os
import sys

from sms_service.cli.common import CommandError, Subparsers, connect, load_settings
from sms_service.core.db import build_sessionmaker, transaction
from sms_service.core.models import utcnow
from sms_service.staff.demo import DemoRefused, fill_demo

REFUSED = "sms-tips: demo data is refused when SMS_TIPS_ENV=production"


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="fill an empty local database with demo families",
        description=(
            "Fill an empty local database with demo families in English and Spanish, their "
            "replies (some urgent), campaigns and delivery history, and two demo accounts. "
            "Refused when SMS_TIPS_ENV=production or when the database already has data."
        ),
    )
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    # Asked before the settings are read: production ones may need what a laptop lacks.
    if os.environ.get("SMS_TIPS_ENV", "").strip().lower() == "production":
        print(REFUSED, file=sys.stderr)
        return 2
    settings = load_settings()
    if settings.is_production:  # from an .env file
        print(REFUSED, file=sys.stderr)
        return 2
    engine = connect(settings, migrate=True)
    try:
        with transaction(build_sessionmaker(engine)) as session:
            report = fill_demo(session, settings=settings, now=utcnow())
    except DemoRefused as error:
        raise CommandError(str(error)) from None
    finally:
        engine.dispose()
    print(
        f"demo: {report.families} families, {report.texts} texts sent, {report.replies} "
        f"replies, {report.campaigns} campaigns"
    )
    for email, password in report.accounts.items():
        print(f"sign in at /admin/login as {email} with password {password}")
    return 0
