"""Campaigns as JSON: the shape the API and `sms-tips campaign` read and write."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sms_service.campaigns.audience import Audience
from sms_service.campaigns.authoring import MessageDraft, wall_clock
from sms_service.core.models import Campaign
from sms_service.core.settings import Settings


class CampaignJsonError(ValueError):
    """A campaign document that cannot be used; the message says why."""


def campaign_json(campaign: Campaign, *, settings: Settings) -> dict[str, Any]:
    """A campaign as the API (and `sms-tips campaign show`) presents it."""
    return {
        "id": campaign.id,
        "name": campaign.name,
        "kind": campaign.kind,
        "status": campaign.status,
        "local_time": campaign.local_time,
        "exceeds_weekly_cap": campaign.exceeds_weekly_cap,
        "audience": campaign.audience,
        # A partner's local message (None: the network's campaign), and who approved it.
        "partner_id": campaign.partner_id,
        "approved_at": campaign.approved_at.isoformat() if campaign.approved_at else None,
        "messages": [
            {
                "position": message.position,
                "send_at": wall_clock(
                    message, local_time=campaign.local_time, zone=settings.zone
                ).isoformat(timespec="minutes"),
                "texts": message.texts,
                "planned_at": message.planned_at.isoformat() if message.planned_at else None,
            }
            for message in campaign.messages
        ],
        "created_at": campaign.created_at.isoformat(),
    }


def campaign_input(data: Any) -> tuple[str, Audience, bool, list[MessageDraft], bool]:
    """Read a campaign from JSON: {name, local_time, audience: {...}, messages: [{send_at,
    texts}], exceeds_weekly_cap} as (name, audience, local_time, messages, exceeds_weekly_cap);
    send_at is a wall-clock time such as 2026-05-04T10:00."""
    if not isinstance(data, dict):
        raise CampaignJsonError("send a JSON object")
    try:
        audience = Audience.from_json(dict(data.get("audience") or {}))
    except (TypeError, ValueError) as error:  # AudienceError is a ValueError
        raise CampaignJsonError(f"audience: {error}") from None
    try:
        messages = [
            MessageDraft(
                send_at=datetime.fromisoformat(str(item["send_at"])).replace(tzinfo=None),
                texts={str(k): str(v) for k, v in dict(item.get("texts") or {}).items()},
            )
            for item in data.get("messages") or []
        ]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise CampaignJsonError(
            "messages must be a list of {send_at: '2026-05-04T10:00', texts: {en: ..., es: ...}}"
        ) from None
    name = str(data.get("name") or "")
    return (
        name,
        audience,
        bool(data.get("local_time")),
        messages,
        data.get("exceeds_weekly_cap") is True,
    )
