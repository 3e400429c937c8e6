"""Helpers every `sms-tips` subcommand shares: settings, logging and the database."""

from __future__ import annotations

import argparse
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from sms_service.core.db import build_engine, upgrade
from sms_service.core.logsetup import configure_logging
from sms_service.core.settings import Settings


# argparse's subparsers object has no public type; this is the one method we use.
class Subparsers(Protocol):
    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


class CommandError(Exception):
    """A command that cannot go on; its message is printed as one line."""


def load_settings() -> Settings:
    """Settings from the environment, with logging set up to match them."""
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def connect(settings: Settings, *, migrate: bool = False) -> Engine:
    """An engine for the configured database, optionally migrated to the latest schema first."""
    engine = build_engine(settings.database_url)
    try:
        if migrate:
            upgrade(engine)
        else:
            with engine.connect():
                pass
    except OperationalError as error:
        raise CommandError(f"cannot reach the database: {error.orig}") from None
    return engine
