"""Duplicating a campaign: a new draft with the same audience, timing and texts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sms_service.campaigns.authoring import (
    MessageDraft,
    audience_of,
    create_campaign,
    wall_clock,
)
from sms_service.core.audit import Actor
from sms_service.core.models import Campaign
from sms_service.core.settings import Settings

COPY_PREFIX = "Copy of "
MAX_NAME = 120


def copy_name(name: str) -> str:
    """The name of a copy: "Copy of <name>", cut to the longest name a campaign may have."""
    return (COPY_PREFIX + name)[:MAX_NAME].rstrip()


def duplicate_campaign(
    session: Session, campaign: Campaign, *, actor: Actor, settings: Settings
) -> Campaign:
    """A new draft copied from `campaign` (any state, cancelled and done included); the caller
    commits. Send times are copied as staff wrote them; scheduling asks for future ones."""
    copy = create_campaign(
        session,
        name=copy_name(campaign.name),
        audience=audience_of(campaign),
        local_time=campaign.local_time,
        messages=[
            MessageDraft(
                send_at=wall_clock(message, local_time=campaign.local_time, zone=settings.zone),
                texts=dict(message.texts),
            )
            for message in campaign.messages
        ],
        actor=actor,
        settings=settings,
        exceeds_weekly_cap=campaign.exceeds_weekly_cap,
    )
    actor.audit(session, "campaign.duplicate", copy, source_campaign_id=campaign.id)
    return copy
