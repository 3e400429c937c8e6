"""Campaign texts that pass the checker, and a helper to make a scheduled campaign."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from sms_service.campaigns.audience import Audience
from sms_service.campaigns.authoring import MessageDraft, create_campaign, schedule_campaign
from sms_service.core.audit import Actor
from sms_service.core.models import Campaign
from sms_service.core.settings import Settings

EN = "This week is the Week of the Young Child. Sing a song together today: your voice is a gift."
ES = "Esta semana es la Semana del Niño Pequeño. Canten juntos hoy: su voz es un regalo."
TEXTS = {"en": EN, "es": ES}
TESTER = Actor(name="tester@example.org", role="admin")


def make_campaign(
    session: Session,
    settings: Settings,
    *,
    times: list[datetime],
    now: datetime,
    audience: Audience | None = None,
    local_time: bool = False,
    schedule: bool = True,
    exceeds_weekly_cap: bool = False,
) -> Campaign:
    """A campaign with one message per wall-clock time in `times`, scheduled unless told."""
    campaign = create_campaign(
        session,
        name="Week of the Young Child",
        audience=audience or Audience(),
        local_time=local_time,
        messages=[MessageDraft(send_at=time, texts=dict(TEXTS)) for time in times],
        actor=TESTER,
        settings=settings,
        exceeds_weekly_cap=exceeds_weekly_cap,
    )
    if schedule:
        schedule_campaign(session, campaign, actor=TESTER, settings=settings, now=now)
    return campaign
