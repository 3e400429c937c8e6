"""`sms-tips db ...`: apply and inspect schema migrations."""

from __future__ import annotations

import argparse

from alembic import command

from sms_service.cli.common import Subparsers, connect, load_settings
from sms_service.core.db import alembic_config, downgrade, upgrade


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "db", help="database schema migrations", description="Manage the database schema."
    )
    commands = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = commands.add_parser("upgrade", help="migrate to the latest schema (or --revision)")
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(handler=_upgrade)
    down = commands.add_parser("downgrade", help="migrate down to a revision ('base' empties it)")
    down.add_argument("revision", help="target revision, e.g. -1 or base")
    down.set_defaults(handler=_downgrade)
    current = commands.add_parser("current", help="show the revision the database is at")
    current.set_defaults(handler=_current)
    revision = commands.add_parser(
        "revision", help="(developers) autogenerate a migration from the models"
    )
    revision.add_argument("-m", "--message", required=True, help="what the migration does")
    revision.set_defaults(handler=_revision)


def _upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()
    upgrade(connect(settings), args.revision)
    print(f"database upgraded to {args.revision}")
    return 0


def _downgrade(args: argparse.Namespace) -> int:
    settings = load_settings()
    downgrade(connect(settings), args.revision)
    print(f"database downgraded to {args.revision}")
    return 0


def _current(args: argparse.Namespace) -> int:
    engine = connect(load_settings())
    with engine.connect() as connection:
        command.current(alembic_config(connection), verbose=False)
    return 0


def _revision(args: argparse.Namespace) -> int:
    engine = connect(load_settings())
    with engine.begin() as connection:
        command.revision(alembic_config(connection), message=args.message, autogenerate=True)
    return 0
