"""Duplicating a campaign, and editing a scheduled or paused one until sending starts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.campaign_planner import plan_campaigns
from sms_service.campaigns.audience import Audience
from sms_service.campaigns.authoring import (
    CampaignError,
    MessageDraft,
    cancel_campaign,
    pause_campaign,
    update_campaign,
    wall_clock,
)
from sms_service.campaigns.duplicate import copy_name, duplicate_campaign
from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, Campaign, utcnow
from sms_service.core.settings import Settings
from tests.helpers.campaigns import EN, ES, TESTER, TEXTS, make_campaign
from tests.helpers.people import add_caregiver

LATER = datetime(2031, 4, 7, 10, 0)


def _audit(session: Session, action: str) -> list[AuditLog]:
    return list(session.scalars(select(AuditLog).where(AuditLog.action == action)))


def _edit(session: Session, campaign: Campaign, settings: Settings, **change: object) -> None:
    fields: dict[str, object] = {
        "name": campaign.name,
        "audience": Audience(languages=("en", "es")),
        "local_time": campaign.local_time,
        "messages": [MessageDraft(send_at=LATER, texts=dict(TEXTS))],
    }
    fields.update(change)
    update_campaign(session, campaign, actor=TESTER, settings=settings, **fields)  # type: ignore[arg-type]


def test_a_copy_is_a_new_audited_draft_with_the_same_audience_and_texts(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    audience = Audience(languages=("es",), age_min=0, age_max=12, age_unit="months", tags=("x",))
    with transaction(sessions) as session:
        source = make_campaign(
            session,
            settings,
            times=[LATER, LATER + timedelta(days=7)],
            now=utcnow(),
            audience=audience,
            exceeds_weekly_cap=True,
        )
        cancel_campaign(session, source, actor=TESTER)
        copy = duplicate_campaign(session, source, actor=TESTER, settings=settings)
        source_id, copy_id = source.id, copy.id
    with sessions() as session:
        copy = session.get_one(Campaign, copy_id)
        assert copy_id != source_id
        assert (copy.name, copy.status, copy.kind) == (
            "Copy of Week of the Young Child",
            "draft",
            "series",
        )
        assert Audience.from_json(copy.audience) == audience
        assert copy.exceeds_weekly_cap
        assert [m.texts for m in copy.messages] == [{"es": ES}, {"es": ES}]
        assert [wall_clock(m, local_time=False, zone=settings.zone) for m in copy.messages] == [
            LATER,
            LATER + timedelta(days=7),
        ]
        [entry] = _audit(session, "campaign.duplicate")
        assert (entry.target_id, entry.detail) == (str(copy_id), {"source_campaign_id": source_id})
        assert session.get_one(Campaign, source_id).status == "cancelled"  # the source is left


def test_a_copy_name_stays_within_the_limit() -> None:
    assert copy_name("x" * 120) == "Copy of " + "x" * 112
    assert copy_name("Spring") == "Copy of Spring"


def test_a_scheduled_campaign_is_edited_stays_scheduled_and_is_audited(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        campaign = make_campaign(session, settings, times=[LATER], now=utcnow())
        _edit(
            session,
            campaign,
            settings,
            name="Renamed",
            messages=[
                MessageDraft(
                    send_at=LATER + timedelta(hours=1), texts={"en": EN + " Today!", "es": ES}
                )
            ],
        )
        campaign_id = campaign.id
    with sessions() as session:
        campaign = session.get_one(Campaign, campaign_id)
        assert (campaign.name, campaign.status) == ("Renamed", "scheduled")
        assert campaign.messages[0].texts["en"].endswith("Today!")
        [entry] = _audit(session, "campaign.update")
        assert entry.detail == {
            "status": "scheduled",
            "changed": ["name", "audience"],
            "messages": 1,
        }


def test_a_scheduled_edit_must_still_pass_what_scheduling_asks(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        campaign = make_campaign(session, settings, times=[LATER], now=utcnow())
        with pytest.raises(CampaignError, match="checker"):
            _edit(
                session,
                campaign,
                settings,
                messages=[
                    MessageDraft(
                        send_at=LATER, texts={"en": "Leave the baby in the bath alone", "es": ES}
                    )
                ],
            )
        with pytest.raises(CampaignError, match="has passed") as passed:
            _edit(
                session,
                campaign,
                settings,
                messages=[MessageDraft(send_at=datetime(2020, 1, 1, 10), texts=dict(TEXTS))],
            )
        assert passed.value.field == "send_at_0"


def test_a_paused_campaign_is_editable_until_its_texts_are_in_the_outbox(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    now = utcnow()
    soon = (now + timedelta(minutes=2)).astimezone(settings.zone).replace(tzinfo=None, second=0)
    with transaction(sessions) as session:
        add_caregiver(session, phone="+12125550161", region=None)
        waiting = make_campaign(session, settings, times=[LATER], now=now)
        pause_campaign(session, waiting, actor=TESTER)
        _edit(session, waiting, settings, name="Paused, edited")
        assert waiting.status == "paused"
        started = make_campaign(session, settings, times=[soon], now=now)
        started_id = started.id
    plan_campaigns(sessions, settings=settings, now=now + timedelta(minutes=5))
    with transaction(sessions) as session:
        started = session.get_one(Campaign, started_id)
        assert started.status in ("sending", "done")
        if started.status == "sending":
            pause_campaign(session, started, actor=TESTER)
        with pytest.raises(CampaignError, match="sending has started"):
            _edit(session, started, settings, name="Too late")


def test_done_and_cancelled_campaigns_are_not_edited(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        campaign = make_campaign(session, settings, times=[LATER], now=utcnow())
        cancel_campaign(session, campaign, actor=TESTER)
        with pytest.raises(CampaignError, match="a cancelled campaign cannot be edited"):
            _edit(session, campaign, settings)
