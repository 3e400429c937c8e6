"""`sms-tips doctor`: check a deployment and say, for each part, OK or what to fix."""

from __future__ import annotations

import argparse

from sqlalchemy.exc import SQLAlchemyError

from content.checker import check_library, default_catalogs
from content.framing import RulesError
from content.library import load_library
from jobs.readiness import readiness_checks
from sms_service.cli.common import Subparsers
from sms_service.core.checks import Check
from sms_service.core.db import build_engine, build_sessionmaker, read_transaction
from sms_service.core.errors import ConfigError
from sms_service.core.models import utcnow
from sms_service.core.settings import Settings
from sms_service.delivery.twilio_setup import check_twilio_setup


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check settings, database, content, scheduler and the Twilio setup",
        description="Check this deployment; exits 1 when something needs fixing.",
    )
    parser.set_defaults(handler=_doctor)


def diagnose(settings: Settings) -> list[Check]:
    """Every check of a deployment whose settings could be read."""
    checks = [_settings_check(settings), _content_check()]
    engine = build_engine(settings.database_url)
    try:
        with read_transaction(build_sessionmaker(engine)) as session:
            checks += readiness_checks(session, settings, now=utcnow())
    except SQLAlchemyError as error:
        checks.append(Check("database", False, f"unreachable: {type(error).__name__}"))
    finally:
        engine.dispose()
    return checks + check_twilio_setup(settings)


def _settings_check(settings: Settings) -> Check:
    if settings.is_production:
        return Check("settings", True, "complete for production")
    missing = [] if settings.twilio_enabled else ["Twilio (texts go to the console)"]
    if settings.uses_local_secret:
        missing.append("SECRET_KEY (the local development key signs sessions)")
    detail = "local mode" + (f", without {'; '.join(missing)}" if missing else "")
    return Check("settings", True, detail)


def _content_check() -> Check:
    try:
        report = check_library(load_library(), catalogs=default_catalogs())
    except RulesError as error:
        return Check("content", False, f"the rules cannot be used: {error}")
    if report.ok:
        return Check("content", True, f"passes the checker ({len(report.findings)} warning(s))")
    return Check(
        "content", False, f"{len(report.errors)} error(s): run sms-tips content check to see them"
    )


def _doctor(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"FAIL  settings: {error}")
        return 1
    checks = diagnose(settings)
    for check in checks:
        print(f"{'OK  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
    return 0 if all(check.ok for check in checks) else 1
