"""`sms-tips partner ...`: the network's partner organisations, their keywords and senders."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from sms_service.cli.common import CommandError, Subparsers, connect, load_settings
from sms_service.core.audit import CLI_ACTOR
from sms_service.core.db import build_sessionmaker, transaction
from sms_service.core.models import utcnow
from sms_service.core.settings import Settings
from sms_service.partners.errors import PartnerError
from sms_service.partners.json_format import partner_json
from sms_service.partners.keywords import change_keywords
from sms_service.partners.records import (
    create_partner,
    list_partners,
    require_partner,
    update_partner,
)
from sms_service.partners.validation import PartnerFields


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "partner",
        help="partner organisations",
        description="The community organisations the program is delivered with.",
    )
    commands = parser.add_subparsers(dest="partner_command", metavar="ACTION", required=True)
    create = commands.add_parser("create", help="add a partner")
    create.add_argument("slug", help="a short lower-case name, e.g. eastside")
    create.add_argument("--name", required=True, help="as texts name it (at most 29 characters)")
    _field_options(create)
    create.add_argument(
        "--keyword",
        action="append",
        default=[],
        metavar="WORD[:LANG]",
        help="an enrollment keyword (language en unless given); repeat for more",
    )
    create.set_defaults(handler=_create)
    listing = commands.add_parser("list", help="every partner with its families")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_list)
    show = commands.add_parser("show", help="one partner in full")
    show.add_argument("slug")
    show.set_defaults(handler=_show)
    update = commands.add_parser(
        "update", help="change a partner", description="Change a partner; '' clears a field."
    )
    update.add_argument("slug")
    update.add_argument("--name", help="as texts name it")
    _field_options(update)
    update.set_defaults(handler=_update)
    keywords = commands.add_parser(
        "keywords", help="list, add or remove a partner's enrollment keywords"
    )
    keywords.add_argument("slug")
    keywords.add_argument("--add", action="append", default=[], metavar="WORD[:LANG]")
    keywords.add_argument("--remove", action="append", default=[], metavar="WORD")
    keywords.set_defaults(handler=_keywords)


def _field_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sender", help="its own Twilio number (+1...) or Messaging Service SID")
    parser.add_argument("--help-contact", help="HELP names it instead of the program's")
    parser.add_argument("--timezone", help="e.g. America/Chicago")
    parser.add_argument("--resources", help="local resources for its families")


def _fields(args: argparse.Namespace) -> PartnerFields:
    return PartnerFields(
        name=args.name,
        sender=args.sender,
        help_contact=args.help_contact,
        timezone=args.timezone,
        local_resources=args.resources,
    )


def _words(values: list[str]) -> dict[str, str]:
    """WORD[:LANG] arguments as word -> language."""
    words = {}
    for value in values:
        word, _, language = value.partition(":")
        words[word] = language.strip().lower() or "en"
    return words


def _run(work: Callable[[Session, Settings], int], *, refused: str = "") -> int:
    """Run `work` in one transaction; a PartnerError is one line, prefixed by `refused`."""
    settings = load_settings()
    engine = connect(settings)
    try:
        with transaction(build_sessionmaker(engine)) as session:
            return work(session, settings)
    except PartnerError as error:
        raise CommandError(f"{refused}{error}") from None
    finally:
        engine.dispose()


def _create(args: argparse.Namespace) -> int:
    def work(session: Session, settings: Settings) -> int:
        partner = create_partner(
            session,
            fields=replace(_fields(args), slug=args.slug),
            keywords=_words(args.keyword),
            settings=settings,
            actor=CLI_ACTOR,
            now=utcnow(),
        )
        words = ", ".join(keyword.word for keyword in partner.keywords) or "no keywords"
        print(f"created partner {partner.slug} ({partner.name}): {words}")
        return 0

    return _run(work, refused="partner not created: ")


def _list(args: argparse.Namespace) -> int:
    def work(session: Session, settings: Settings) -> int:
        rows = list_partners(session, scope=CLI_ACTOR.scope)
        if args.json:
            found: list[dict[str, Any]] = [
                {**partner_json(row.partner), "families": row.families, "active": row.active}
                for row in rows
            ]
            print(json.dumps(found, indent=2, ensure_ascii=False))
            return 0
        for row in rows:
            words = ",".join(keyword.word for keyword in row.partner.keywords) or "-"
            print(
                f"{row.partner.slug:<16} {row.partner.name:<30} {row.active:>6} active "
                f"{row.families:>6} families  keywords {words}"
            )
        return 0

    return _run(work)


def _show(args: argparse.Namespace) -> int:
    def work(session: Session, settings: Settings) -> int:
        partner = require_partner(session, args.slug)
        print(json.dumps(partner_json(partner), indent=2, ensure_ascii=False))
        return 0

    return _run(work)


def _update(args: argparse.Namespace) -> int:
    def work(session: Session, settings: Settings) -> int:
        partner = require_partner(session, args.slug)
        changed = update_partner(
            session, partner=partner, fields=_fields(args), actor=CLI_ACTOR, now=utcnow()
        )
        print(f"updated {partner.slug}: {', '.join(changed) or 'nothing changed'}")
        return 0

    return _run(work, refused="partner not updated: ")


def _keywords(args: argparse.Namespace) -> int:
    def work(session: Session, settings: Settings) -> int:
        partner = require_partner(session, args.slug)
        if args.add or args.remove:
            words = change_keywords(
                session,
                partner=partner,
                add=_words(args.add),
                remove=args.remove,
                settings=settings,
                actor=CLI_ACTOR,
            )
        else:
            words = [keyword.word for keyword in partner.keywords]
        print(f"{partner.slug}: {', '.join(words) or 'no keywords'}")
        return 0

    return _run(work, refused="keywords not changed: ")
