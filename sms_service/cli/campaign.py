"""`sms-tips campaign ...`: the admin's campaign operations from the shell."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from content.languages import languages
from sms_service.campaigns.audience import audience_size
from sms_service.campaigns.authoring import (
    CampaignError,
    CampaignNotFound,
    approve_campaign,
    audience_of,
    cancel_campaign,
    create_campaign,
    get_campaign,
    list_campaigns,
    pause_campaign,
    resume_campaign,
    schedule_campaign,
    send_back_campaign,
)
from sms_service.campaigns.json_format import CampaignJsonError, campaign_input, campaign_json
from sms_service.campaigns.results import campaign_results
from sms_service.cli.common import CommandError, Subparsers, connect, load_settings
from sms_service.core.audit import CLI_ACTOR
from sms_service.core.db import build_sessionmaker, transaction
from sms_service.core.models import utcnow
from sms_service.core.scope import NETWORK
from sms_service.core.settings import Settings
from sms_service.partners.errors import PartnerNotFound
from sms_service.partners.records import visible_partner


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "campaign",
        help="create, list and control campaigns",
        description="Campaign operations, the same as the admin's (audited as 'cli').",
    )
    commands = parser.add_subparsers(dest="campaign_command", metavar="ACTION", required=True)

    create = commands.add_parser(
        "create",
        help="add a draft campaign",
        description=(
            "Add a draft campaign, from options (one text per language, sent at each --at) or "
            "from a JSON file in the API's format (--from-json). Times are wall-clock times in "
            "the program's zone, or each caregiver's with --local-time."
        ),
    )
    create.add_argument("--name", help="the campaign's name")
    create.add_argument(
        "--at",
        action="append",
        default=[],
        metavar="YYYY-MM-DDTHH:MM",
        help="when a message goes out (repeat for a series)",
    )
    for code, language in languages().items():
        create.add_argument(f"--{code}", help=f"the text in {language.name}")
    create.add_argument(
        "--language",
        action="append",
        choices=list(languages()),
        default=[],
        help="only caregivers of this language (repeatable; default: all)",
    )
    create.add_argument(
        "--local-time", action="store_true", help="send at that time in each caregiver's own zone"
    )
    create.add_argument(
        "--exceeds-weekly-cap",
        action="store_true",
        help="send even to families whose weekly limit is used up (audited)",
    )
    create.add_argument("--age-min", type=int, help="youngest child age (in --age-unit)")
    create.add_argument("--age-max", type=int, help="oldest child age (in --age-unit)")
    create.add_argument("--age-unit", choices=["weeks", "months"], default="weeks")
    create.add_argument(
        "--keyword",
        action="append",
        default=[],
        help="enrollment keyword, e.g. JOIN-LIBRARY (repeatable)",
    )
    create.add_argument("--tag", action="append", default=[], help="caregiver tag (repeatable)")
    create.add_argument(
        "--partner",
        action="append",
        default=[],
        metavar="SLUG",
        help="only families who joined with this partner (repeatable; none: the whole network)",
    )
    create.add_argument(
        "--from-json",
        type=Path,
        metavar="FILE",
        help="read the whole campaign from a JSON file instead",
    )
    create.add_argument("--schedule", action="store_true", help="schedule it right away")
    create.set_defaults(handler=_create)

    listing = commands.add_parser("list", help="list campaigns", description="List campaigns.")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_list)

    show = commands.add_parser(
        "show",
        help="one campaign with its audience and results",
        description="Show a campaign, its audience size today and its results.",
    )
    show.add_argument("campaign_id", type=int)
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_show)

    for name, verb in (
        ("schedule", _schedule),
        ("pause", _pause),
        ("resume", _resume),
        ("cancel", _cancel),
    ):
        action = commands.add_parser(
            name, help=f"{name} a campaign", description=f"{name.capitalize()} a campaign."
        )
        action.add_argument("campaign_id", type=int)
        action.set_defaults(handler=verb)

    approve = commands.add_parser(
        "approve",
        help="approve a partner's local message",
        description="Approve a local message waiting for review: it is then scheduled.",
    )
    approve.add_argument("campaign_id", type=int)
    approve.set_defaults(handler=_approve)
    back = commands.add_parser(
        "send-back",
        help="send a local message back to its partner",
        description="Send a local message waiting for review back to draft, saying what to change.",
    )
    back.add_argument("campaign_id", type=int)
    back.add_argument("--note", required=True, help="what the partner should change")
    back.set_defaults(handler=_send_back)


def _run(work: Callable[[Session, Settings], Any]) -> Any:
    settings = load_settings()
    engine = connect(settings)
    try:
        with transaction(build_sessionmaker(engine)) as session:
            return work(session, settings)
    except (CampaignError, CampaignJsonError, CampaignNotFound) as error:
        raise CommandError(str(error)) from None
    finally:
        engine.dispose()


def _from_options(args: argparse.Namespace) -> dict[str, Any]:
    texts = {code: text for code in languages() if (text := getattr(args, code, None))}
    return {
        "name": args.name,
        "local_time": args.local_time,
        "exceeds_weekly_cap": args.exceeds_weekly_cap,
        "audience": {
            "languages": args.language,
            "age_min": args.age_min,
            "age_max": args.age_max,
            "age_unit": args.age_unit,
            "keywords": args.keyword,
            "tags": args.tag,
        },
        "partner_slugs": args.partner,
        "messages": [{"send_at": at, "texts": texts} for at in args.at],
    }


def _create(args: argparse.Namespace) -> int:
    if args.from_json is not None:
        try:
            data = json.loads(args.from_json.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read {args.from_json}: {error}") from None
    else:
        data = _from_options(args)

    def work(session: Session, settings: Settings) -> tuple[int, str]:
        name, audience, local_time, messages, exceeds_cap = campaign_input(data)
        slugs = (data.get("partner_slugs") or []) if isinstance(data, dict) else []
        if slugs:
            try:
                ids = [visible_partner(session, slug, scope=NETWORK).id for slug in slugs]
            except PartnerNotFound as error:
                raise CommandError(str(error)) from None
            audience = replace(audience, partners=tuple(sorted(set(ids))))
        campaign = create_campaign(
            session,
            name=name,
            audience=audience,
            local_time=local_time,
            messages=messages,
            actor=CLI_ACTOR,
            settings=settings,
            exceeds_weekly_cap=exceeds_cap,
        )
        if args.schedule:
            schedule_campaign(session, campaign, actor=CLI_ACTOR, settings=settings, now=utcnow())
        return campaign.id, campaign.status

    campaign_id, status = _run(work)
    print(f"campaign {campaign_id} created ({status})")
    return 0


def _list(args: argparse.Namespace) -> int:
    rows = _run(
        lambda session, settings: [
            campaign_json(campaign, settings=settings) for campaign in list_campaigns(session)
        ]
    )
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    for row in rows:
        first = row["messages"][0]["send_at"] if row["messages"] else "-"
        print(f"{row['id']:>5}  {row['status']:<10} {row['kind']:<8} {first:<17} {row['name']}")
    if not rows:
        print("no campaigns")
    return 0


def _show(args: argparse.Namespace) -> int:
    def work(session: Session, settings: Settings) -> dict[str, Any]:
        campaign = get_campaign(session, args.campaign_id)
        data = campaign_json(campaign, settings=settings)
        data["audience_size"] = audience_size(
            session, audience_of(campaign), zone=settings.zone, now=utcnow()
        )
        data["results"] = campaign_results(session, campaign.id).to_json()
        return data

    data = _run(work)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    results = data["results"]
    print(f"campaign {data['id']}: {data['name']} [{data['status']}]")
    print(f"audience today: {data['audience_size']['total']} ({json.dumps(data['audience'])})")
    for message in data["messages"]:
        print(f"  message {message['position'] + 1} at {message['send_at']}")
        for language, text in message["texts"].items():
            print(f"    {language}: {text}")
    print(
        f"reached {results['reached']}, sent {results['sent']}, delivered "
        f"{results['delivered']}, failed {results['failed']} {results['failures_by_code']}, "
        f"replies {results['replies']}, opt-outs {results['opt_outs']} (48 h)"
    )
    return 0


def _transition(args: argparse.Namespace, verb: Callable[[Session, Any, Settings], Any]) -> int:
    def work(session: Session, settings: Settings) -> str:
        campaign = get_campaign(session, args.campaign_id, for_update=True)
        verb(session, campaign, settings)
        return campaign.status

    status = _run(work)
    print(f"campaign {args.campaign_id} is now {status}")
    return 0


def _schedule(args: argparse.Namespace) -> int:
    return _transition(
        args,
        lambda s, c, settings: schedule_campaign(
            s, c, actor=CLI_ACTOR, settings=settings, now=utcnow()
        ),
    )


def _approve(args: argparse.Namespace) -> int:
    return _transition(
        args,
        lambda s, c, settings: approve_campaign(
            s, c, actor=CLI_ACTOR, settings=settings, now=utcnow()
        ),
    )


def _send_back(args: argparse.Namespace) -> int:
    return _transition(
        args, lambda s, c, _: send_back_campaign(s, c, actor=CLI_ACTOR, note=args.note)
    )


def _pause(args: argparse.Namespace) -> int:
    return _transition(args, lambda s, c, _: pause_campaign(s, c, actor=CLI_ACTOR))


def _resume(args: argparse.Namespace) -> int:
    return _transition(args, lambda s, c, _: resume_campaign(s, c, actor=CLI_ACTOR))


def _cancel(args: argparse.Namespace) -> int:
    return _transition(args, lambda s, c, _: cancel_campaign(s, c, actor=CLI_ACTOR))
