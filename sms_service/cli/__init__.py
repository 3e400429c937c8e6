"""The `sms-tips` command line: one subcommand module per area, registered below."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from content.languages import LanguageError
from sms_service.cli.common import CommandError
from sms_service.core.errors import ConfigError


def command_modules() -> list[ModuleType]:
    """Each module adds its subcommands with register(subparsers); later areas append here.

    Imported on call, not at the top: they read the content folder as they load, and a broken
    one (SMS_TIPS_CONTENT_DIR) must end in main's one line, not a traceback.
    """
    from sms_service.cli import (
        campaign,
        content,
        db,
        demo,
        doctor,
        invite,
        jobs,
        partner,
        server,
        simulate,
        staff,
        stats,
    )

    return [
        server,
        db,
        staff,
        content,
        jobs,
        simulate,
        campaign,
        invite,
        stats,
        doctor,
        demo,
        partner,
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sms-tips",
        description=(
            "Early Relational Health SMS tips: enroll caregivers by text, plan weekly "
            "age-matched tips, send them through Twilio, and run staff campaigns."
        ),
        epilog="Configuration comes from environment variables (see README.md).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in command_modules():
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `sms-tips` command; configuration problems exit 2 with one line, no traceback."""
    try:
        args = build_parser().parse_args(argv)
        result: int = args.handler(args)
    except ConfigError as error:
        print(f"sms-tips: configuration error: {error}", file=sys.stderr)
        return 2
    except LanguageError as error:
        print(f"sms-tips: a language file cannot be used: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"sms-tips: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        logging.getLogger(__name__).info("interrupted")
        return 130
    return result
