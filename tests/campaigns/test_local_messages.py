"""A partner's local messages: its families only, approved by a network admin before they go,
within the network's monthly limit per partner, and another partner never sees them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.campaign_planner import plan_campaigns
from sms_service.campaigns.audience import Audience
from sms_service.campaigns.authoring import (
    CampaignError,
    CampaignNotFound,
    MessageDraft,
    approve_campaign,
    create_campaign,
    get_campaign,
    is_editable,
    list_campaigns,
    schedule_campaign,
    send_back_campaign,
    sent_back_note,
    submit_campaign,
    update_campaign,
)
from sms_service.core.audit import Actor
from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, Campaign, OutboundMessage
from sms_service.core.scope import Scope
from sms_service.core.settings import Settings
from tests.helpers.campaigns import TESTER, TEXTS
from tests.helpers.partners import add_partner
from tests.helpers.people import add_caregiver

NOW = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)
NOON = datetime(2026, 11, 26, 12, 0)


def _author(partner_id: int) -> Actor:
    return Actor(name="eve@example.org", role="admin", partner_id=partner_id)


def _campaign(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    times: list[datetime] | None = None,
    audience: Audience | None = None,
    exceeds_weekly_cap: bool = False,
) -> Campaign:
    return create_campaign(
        session,
        name="Playgroup Thursdays",
        audience=audience or Audience(),
        local_time=False,
        messages=[MessageDraft(send_at=t, texts=dict(TEXTS)) for t in times or [NOON]],
        actor=actor,
        settings=settings,
        exceeds_weekly_cap=exceeds_weekly_cap,
    )


def _local(
    session: Session,
    settings: Settings,
    partner_id: int,
    *,
    times: list[datetime] | None = None,
    audience: Audience | None = None,
) -> Campaign:
    return _campaign(session, settings, _author(partner_id), times=times, audience=audience)


def test_a_local_message_waits_for_approval_and_reaches_only_its_partners_families(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as s:
        east = add_partner(s, settings, "eastside").id
        west = add_partner(s, settings, "westside").id
        ours = [add_caregiver(s, partner_id=east, today=TODAY).id for _ in range(2)]
        add_caregiver(s, partner_id=west, today=TODAY)
        add_caregiver(s, today=TODAY)  # the network's own family
        campaign = _local(s, settings, east)
        assert campaign.partner_id == east
        with pytest.raises(CampaignError, match="approves it"):
            schedule_campaign(s, campaign, actor=_author(east), settings=settings, now=NOW)
        submit_campaign(s, campaign, actor=_author(east), settings=settings, now=NOW)
        campaign_id = campaign.id
    # Waiting for review, nothing is planned.
    assert plan_campaigns(sessions, settings=settings, now=NOW) == 0
    with transaction(sessions) as s:
        campaign = get_campaign(s, campaign_id, for_update=True)
        with pytest.raises(CampaignError, match="network admin"):
            approve_campaign(s, campaign, actor=_author(east), settings=settings, now=NOW)
    with transaction(sessions) as s:
        campaign = get_campaign(s, campaign_id, for_update=True)
        approve_campaign(s, campaign, actor=TESTER, settings=settings, now=NOW)
        assert campaign.status == "scheduled" and campaign.approved_at == NOW
    assert plan_campaigns(sessions, settings=settings, now=NOW) == 2
    with sessions() as s:
        reached = s.scalars(select(OutboundMessage.caregiver_id)).all()
        assert sorted(reached) == sorted(ours)
        actions = s.scalars(select(AuditLog.action).where(AuditLog.target_type == "Campaign"))
        assert {"campaign.submit", "campaign.approve"} <= set(actions)


def test_a_partner_cannot_reach_beyond_its_families_whatever_it_asks(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as s:
        east = add_partner(s, settings, "eastside").id
        west = add_partner(s, settings, "westside").id
        with pytest.raises(CampaignError, match="your own families"):
            _local(s, settings, east, audience=Audience(partners=(west,)))
        # Stored filters edited behind the service's back still reach Eastside only.
        campaign = _local(s, settings, east)
        campaign.audience = Audience(partners=(west,)).to_json()
        add_caregiver(s, partner_id=west, today=TODAY)
        mine = add_caregiver(s, partner_id=east, today=TODAY).id
        submit_campaign(s, campaign, actor=_author(east), settings=settings, now=NOW)
        approve_campaign(s, campaign, actor=TESTER, settings=settings, now=NOW)
    assert plan_campaigns(sessions, settings=settings, now=NOW) == 1
    with sessions() as s:
        assert s.scalars(select(OutboundMessage.caregiver_id)).all() == [mine]


def test_a_network_campaign_can_target_some_partners_and_refuses_unknown_ones(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as s:
        east = add_partner(s, settings, "eastside").id
        west = add_partner(s, settings, "westside").id
        north = add_partner(s, settings, "northside").id
        targeted = {
            add_caregiver(s, partner_id=east, today=TODAY).id,
            add_caregiver(s, partner_id=west, today=TODAY).id,
        }
        add_caregiver(s, partner_id=north, today=TODAY)
        with pytest.raises(CampaignError, match="no partner 999"):
            _campaign(s, settings, TESTER, audience=Audience(partners=(999,)))
        campaign = _campaign(s, settings, TESTER, audience=Audience(partners=(east, west)))
        schedule_campaign(s, campaign, actor=TESTER, settings=settings, now=NOW)
    assert plan_campaigns(sessions, settings=settings, now=NOW) == 2
    with sessions() as s:
        assert set(s.scalars(select(OutboundMessage.caregiver_id))) == targeted


def test_the_monthly_limit_counts_every_local_message_approved_or_waiting(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    settings = replace(settings, partner_monthly_messages=2)
    december = [datetime(2026, 12, 3, 12), datetime(2026, 12, 10, 12)]
    with transaction(sessions) as s:
        east = add_partner(s, settings, "eastside").id
        west = add_partner(s, settings, "westside").id
        first = _local(s, settings, east, times=december)
        submit_campaign(s, first, actor=_author(east), settings=settings, now=NOW)
        # Another partner's month is its own.
        other = _local(s, settings, west, times=[datetime(2026, 12, 4, 12)])
        submit_campaign(s, other, actor=_author(west), settings=settings, now=NOW)
        over = _local(s, settings, east, times=[datetime(2026, 12, 20, 12)])
        with pytest.raises(CampaignError, match=r"2 local message.*December 2026 already has 2"):
            submit_campaign(s, over, actor=_author(east), settings=settings, now=NOW)
        january = _local(s, settings, east, times=[datetime(2027, 1, 5, 12)])
        submit_campaign(s, january, actor=_author(east), settings=settings, now=NOW)
        assert january.status == "review"
        # Sent back, the first no longer counts: December has room again.
        send_back_campaign(s, first, actor=TESTER, note="Say which library branch")
        submit_campaign(s, over, actor=_author(east), settings=settings, now=NOW)
        assert over.status == "review"


def test_sent_back_is_a_draft_with_the_admins_note(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as s:
        east = add_partner(s, settings, "eastside").id
        campaign = _local(s, settings, east)
        submit_campaign(s, campaign, actor=_author(east), settings=settings, now=NOW)
        with pytest.raises(CampaignError, match="say what to change"):
            send_back_campaign(s, campaign, actor=TESTER, note="   ")
        send_back_campaign(s, campaign, actor=TESTER, note="Add the  time in Spanish too")
        assert campaign.status == "draft"
        assert sent_back_note(s, campaign) == "Add the time in Spanish too"


def test_a_partner_sees_its_own_campaigns_only(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as s:
        east = add_partner(s, settings, "eastside").id
        west = add_partner(s, settings, "westside").id
        mine = _local(s, settings, east).id
        theirs = _local(s, settings, west).id
        network = _campaign(s, settings, TESTER).id
    with sessions() as s:
        assert [c.id for c in list_campaigns(s, scope=Scope(east))] == [mine]
        assert {c.id for c in list_campaigns(s)} == {mine, theirs, network}
        with pytest.raises(CampaignNotFound):
            get_campaign(s, theirs, scope=Scope(east))
        with pytest.raises(CampaignNotFound):
            get_campaign(s, network, scope=Scope(east))


def test_an_approved_local_message_cannot_be_changed_before_it_goes(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as s:
        east = add_partner(s, settings, "eastside").id
        campaign = _local(s, settings, east)
        submit_campaign(s, campaign, actor=_author(east), settings=settings, now=NOW)
        approve_campaign(s, campaign, actor=TESTER, settings=settings, now=NOW)
        assert not is_editable(campaign, planned=0)
        changed = {"en": "Come to our new playgroup at 11!", "es": "¡Vengan a las 11!"}
        for actor in (_author(east), TESTER):
            with pytest.raises(CampaignError, match="approved local message cannot be changed"):
                update_campaign(
                    s,
                    campaign,
                    name=campaign.name,
                    audience=Audience(),
                    local_time=False,
                    messages=[MessageDraft(send_at=NOON, texts=changed)],
                    actor=actor,
                    settings=settings,
                    now=NOW,
                )
        assert campaign.messages[0].texts == TEXTS


def test_a_local_message_cannot_go_past_the_weekly_limit(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as s:
        east = add_partner(s, settings, "eastside").id
        with pytest.raises(CampaignError, match="within the families' weekly limit"):
            _campaign(s, settings, _author(east), exceeds_weekly_cap=True)
