"""`sms-tips invite FILE.csv`: send one invitation to each new number of a CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from sms_service.cli.common import CommandError, Subparsers, connect, load_settings
from sms_service.core.audit import CLI_ACTOR
from sms_service.core.db import build_sessionmaker, transaction
from sms_service.core.models import utcnow
from sms_service.core.phones import mask
from sms_service.partners.errors import PartnerError
from sms_service.partners.records import require_partner
from sms_service.texting.invites import ImportReport, InviteFileError, import_invites


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "invite",
        help="invite families from a CSV",
        description=(
            "Send one invitation text to each new number of a CSV (phone, language, optional "
            "child name and birth date). Every row is checked first: one bad row imports "
            "nothing. Known, opted-out and erased numbers are skipped."
        ),
    )
    parser.add_argument("file", type=Path, help="the CSV file (UTF-8)")
    parser.add_argument(
        "--partner",
        metavar="SLUG",
        help="the partner the families join with, named in the invitation (default: the program)",
    )
    parser.set_defaults(handler=_invite)


def _invite(args: argparse.Namespace) -> int:
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"cannot read {args.file}: {error}") from None
    settings = load_settings()
    engine = connect(settings)
    try:
        with transaction(build_sessionmaker(engine)) as session:
            partner = require_partner(session, args.partner) if args.partner else None
            report = import_invites(
                session,
                text=text,
                settings=settings,
                actor=CLI_ACTOR,
                now=utcnow(),
                partner_id=partner.id if partner else None,
            )
    except PartnerError as error:
        raise CommandError("; ".join(error.problems)) from None
    except InviteFileError as error:
        for problem in error.problems:
            print(problem)
        raise CommandError(
            f"{args.file}: {len(error.problems)} bad row(s), nothing imported"
        ) from None
    finally:
        engine.dispose()
    _print(report)
    return 0


def _print(report: ImportReport) -> None:
    for skipped in report.skipped:
        print(f"line {skipped.line}: {mask(skipped.phone)} skipped: {skipped.reason}")
    print(report.summary())
