"""`sms-tips partner ...` as an operator runs it, in-process through the real entry point."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, Partner
from tests.cli.conftest import Runner
from tests.helpers.people import add_caregiver


def test_partner_commands_create_list_show_update_and_change_keywords(
    run_cli: Runner, sessions: sessionmaker[Session]
) -> None:
    made = run_cli(
        "partner", "create", "eastside", "--name", "Eastside Family Center",
        "--keyword", "EAST", "--keyword", "este:es", "--sender", "+1 212 555 0188",
        "--help-contact", "call 212-555-0100", "--timezone", "America/Chicago",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == "created partner eastside (Eastside Family Center): EAST, ESTE"
    with transaction(sessions) as session:
        east = session.scalars(select(Partner).where(Partner.slug == "eastside")).one()
        add_caregiver(session, partner_id=east.id)
        add_caregiver(session, status="opted_out")  # the default partner's

    listing = run_cli("partner", "list", "--json")
    rows = {row["slug"]: row for row in json.loads(listing.stdout)}
    assert (rows["eastside"]["families"], rows["eastside"]["active"]) == (1, 1)
    assert (rows["program"]["families"], rows["program"]["active"]) == (1, 0)

    shown = json.loads(run_cli("partner", "show", "eastside").stdout)
    assert shown["sender"] == "+12125550188"
    assert shown["keywords"] == [
        {"word": "EAST", "language": "en"},
        {"word": "ESTE", "language": "es"},
    ]

    updated = run_cli("partner", "update", "eastside", "--sender", "", "--timezone", "")
    assert updated.stdout.strip() == "updated eastside: sender, timezone"
    assert json.loads(run_cli("partner", "show", "eastside").stdout)["sender"] is None

    changed = run_cli("partner", "keywords", "eastside", "--add", "EASTSIDE", "--remove", "este")
    assert changed.stdout.strip() == "eastside: EAST, EASTSIDE"
    assert run_cli("partner", "keywords", "eastside").stdout.strip() == "eastside: EAST, EASTSIDE"
    with transaction(sessions) as session:
        actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["partner.create", "partner.keywords", "partner.update", "partner.keywords"]


def test_a_refused_partner_is_one_clear_line_and_nothing_is_written(
    run_cli: Runner, sessions: sessionmaker[Session]
) -> None:
    run_cli("partner", "create", "eastside", "--name", "Eastside", "--keyword", "EAST")
    refused = run_cli(
        "partner", "create", "westside", "--name", "Westside", "--keyword", "east",
        "--keyword", "STOP",
    )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "sms-tips: partner not created: EAST is already a keyword of Eastside; STOP is a "
        "built-in keyword (opt out): pick another keyword"
    )
    missing = run_cli("partner", "show", "nowhere")
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        "sms-tips: no partner has the slug 'nowhere'",
    )
    with transaction(sessions) as session:
        slugs = session.scalars(select(Partner.slug).order_by(Partner.slug)).all()
    assert "westside" not in slugs
