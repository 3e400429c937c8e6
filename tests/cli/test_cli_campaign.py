"""`sms-tips campaign ...`, `sms-tips stats` and `sms-tips staff create-token` as run by staff.

Run in-process through the real entry point with a real environment (a subprocess per call
would cost seconds each; tests/cli/test_cli.py covers the process itself).
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, utcnow
from sms_service.staff.tokens import token_holder
from tests.cli.conftest import Runner
from tests.helpers.campaigns import EN, ES
from tests.helpers.people import add_caregiver, add_staff
from tests.helpers.reports import seed_recent


def test_campaign_commands_cover_the_whole_life(
    run_cli: Runner, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        add_caregiver(session)
        add_caregiver(session, language="es", child_age_days=400)
    created = run_cli(
        "campaign",
        "create",
        "--name",
        "Week of the Young Child",
        "--at",
        "2031-04-07T10:00",
        "--at",
        "2031-04-08T10:00",
        "--en",
        EN,
        "--es",
        ES,
        "--age-max",
        "12",
        "--age-unit",
        "months",
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "campaign 1 created (draft)"
    shown = run_cli("campaign", "show", "1", "--json")
    data = json.loads(shown.stdout)
    assert data["kind"] == "series" and data["audience_size"]["total"] == 1
    assert run_cli("campaign", "schedule", "1").stdout.strip() == ("campaign 1 is now scheduled")
    assert "now paused" in run_cli("campaign", "pause", "1").stdout
    assert "now scheduled" in run_cli("campaign", "resume", "1").stdout
    assert "now cancelled" in run_cli("campaign", "cancel", "1").stdout
    again = run_cli("campaign", "cancel", "1")
    assert again.returncode == 1 and "a cancelled campaign cannot be cancelled" in again.stderr
    listing = run_cli("campaign", "list").stdout
    assert "cancelled" in listing and "Week of the Young Child" in listing
    human = run_cli("campaign", "show", "1").stdout
    assert "reached 0, sent 0" in human
    with sessions() as session:
        actions = session.scalars(select(AuditLog.action).where(AuditLog.actor == "cli")).all()
    assert actions == [
        "campaign.create",
        "campaign.schedule",
        "campaign.pause",
        "campaign.resume",
        "campaign.cancel",
    ]


def test_a_campaign_past_the_weekly_limit_is_asked_for_by_name(run_cli: Runner) -> None:
    created = run_cli(
        "campaign",
        "create",
        "--name",
        "Clinic closed",
        "--at",
        "2031-04-07T10:00",
        "--en",
        EN,
        "--es",
        ES,
        "--exceeds-weekly-cap",
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(run_cli("campaign", "show", "1", "--json").stdout)["exceeds_weekly_cap"]


def test_bad_campaigns_are_refused_with_one_line(run_cli: Runner) -> None:
    result = run_cli(
        "campaign",
        "create",
        "--name",
        "x",
        "--at",
        "2031-01-01T10:00",
        "--en",
        "Hug {child}.",
        "--es",
        ES,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("sms-tips: message 1 (en): campaign texts cannot use")
    missing = run_cli("campaign", "show", "7")
    assert missing.returncode == 1 and "there is no campaign 7" in missing.stderr


def test_stats_and_create_token(run_cli: Runner, sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        add_caregiver(session)
        add_staff(session, "sam@example.org")
    stats = json.loads(run_cli("stats", "--json").stdout)
    assert stats["by_status"]["active"] == 1
    assert "caregivers: enrolled 1" in run_cli("stats").stdout
    assert stats["range"]["preset"] == "4weeks" and "rates" in stats and stats["tips"] == []
    token = run_cli("staff", "create-token", "sam@example.org")
    assert token.returncode == 0, token.stderr
    with transaction(sessions) as session:
        holder = token_holder(session, token.stdout.strip(), now=utcnow())
    assert holder is not None and holder.staff.email == "sam@example.org"
    nobody = run_cli("staff", "create-token", "nobody@example.org")
    assert nobody.returncode == 1 and "no active staff account" in nobody.stderr


def test_stats_by_range(run_cli: Runner, sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        seed_recent(session, now=utcnow())
    week = run_cli("stats", "--range", "week").stdout
    assert "Last week (7 days)" in week and "sent 1 (delivered 1" in week
    assert "delivery rate 100%; opt-outs per 100 texts 0.0; reply rate 100%" in week
    month = run_cli("stats").stdout
    assert "reply rate 33% (1 of 3 tips and campaign texts answered within 48 h)" in month
    assert "not delivered: 30006: a landline" in month and "families affected: 1" in month
    reversed_range = run_cli("stats", "--from", "2026-05-02", "--to", "2026-05-01")
    assert reversed_range.returncode == 2 and "after it ends" in reversed_range.stderr
