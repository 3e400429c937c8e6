"""The campaign planner job: puts due campaign messages into the outbox, set-based.

For each message that is due (or about to be), it runs one INSERT ... SELECT per group of
caregivers sharing a language, time zone and state, so the due time can honour each group's
quiet hours. The dedupe key campaign:{campaign_message_id}:{caregiver_id} with insert-or-ignore
makes planning idempotent: a campaign never reaches anyone twice. Opted-out, paused and
undeliverable caregivers are not in the audience (only active ones are), and the dispatcher
checks again right before sending.

The household cap (sms_service.core.weekly_cap): a caregiver whose local week already holds
messages_per_week texts gets the campaign text at the same local time a week later, or the
first later week with room. Texts already planned keep their week (a planned text is never
withdrawn, so a tip sent on Monday is not undone by Friday's campaign); a text deferred to a
later week holds its room there, and that week's tip waits (a campaign is about its date, a
tip loses nothing by waiting). A campaign staff marked `exceeds_weekly_cap` goes out on time
to everyone and is not counted against anyone's cap.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import SQLColumnExpression, exists, func, literal, null, select
from sqlalchemy.orm import Session, sessionmaker

from content.segments import analyze
from jobs.runtime import runtime
from sms_service.campaigns.audience import audience_condition
from sms_service.campaigns.authoring import audience_of, message_body
from sms_service.core import metrics, outbox
from sms_service.core.db import build_sessionmaker, transaction
from sms_service.core.models import (
    Campaign,
    CampaignMessage,
    Caregiver,
    OutboundMessage,
    UTCDateTime,
    utcnow,
)
from sms_service.core.settings import Settings
from sms_service.core.weekly_cap import count_alone, texts_in_week_sql
from sms_service.delivery.sendwindow import next_send_time

logger = logging.getLogger(__name__)

# Local-time messages are planned this long before their wall-clock time reaches UTC, so the
# earliest zone (UTC+14) gets them on time; each row's due time is its own zone's.
LOCAL_TIME_LEAD = timedelta(hours=14)


def plan_due_campaigns(database: str) -> int:
    """Scheduler job: plan every due campaign message; returns outbox rows inserted."""
    bound = runtime(database)
    return plan_campaigns(build_sessionmaker(bound.engine), settings=bound.settings, now=utcnow())


def plan_campaigns(sessions: sessionmaker[Session], *, settings: Settings, now: datetime) -> int:
    """Plan due messages of scheduled/sending campaigns, one transaction per campaign."""
    began = time.monotonic()
    try:
        inserted = _plan_campaigns(sessions, settings=settings, now=now)
    finally:
        metrics.PLANNER_RUN.labels(planner="campaigns").observe(time.monotonic() - began)
    metrics.PLANNER_ROWS.labels(planner="campaigns").inc(inserted)
    return inserted


def _plan_campaigns(sessions: sessionmaker[Session], *, settings: Settings, now: datetime) -> int:
    horizon = now + timedelta(minutes=settings.planner_interval_minutes)
    with sessions() as session:
        campaign_ids = list(
            session.scalars(
                select(Campaign.id)
                .where(Campaign.status.in_(("scheduled", "sending")))
                .order_by(Campaign.id)
            )
        )
    inserted = 0
    for campaign_id in campaign_ids:
        try:
            with transaction(sessions) as session:
                inserted += _plan_one(
                    session, campaign_id, settings=settings, now=now, horizon=horizon
                )
        except Exception:
            # One broken campaign must not stop the others (or kill the scheduler).
            logger.exception("planning campaign %s failed", campaign_id)
    return inserted


def _plan_one(
    session: Session, campaign_id: int, *, settings: Settings, now: datetime, horizon: datetime
) -> int:
    # Locking the campaign row serialises planning with pause/cancel from the admin.
    campaign = session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update())
    count_alone(session.connection())  # after the campaign lock: always taken in this order
    if campaign is None or campaign.status not in ("scheduled", "sending"):
        return 0
    inserted = 0
    for message in campaign.messages:
        if message.planned_at is None and _is_due(campaign, message, horizon):
            inserted += _plan_message(session, campaign, message, settings=settings, now=now)
            message.planned_at = now
            campaign.status = "sending"
    if all(message.planned_at is not None for message in campaign.messages):
        unsent = session.scalar(
            select(func.count()).where(
                OutboundMessage.campaign_id == campaign.id,
                OutboundMessage.state.in_(("pending", "sending")),
            )
        )
        if not unsent:
            campaign.status = "done"
            logger.info("campaign %s is done", campaign.id)
    if inserted:
        logger.info("campaign %s: planned %s texts", campaign.id, inserted)
    return inserted


def _is_due(campaign: Campaign, message: CampaignMessage, horizon: datetime) -> bool:
    if campaign.local_time:
        return message.send_at - LOCAL_TIME_LEAD <= horizon
    return message.send_at <= horizon


def _due_at(
    campaign: Campaign,
    message: CampaignMessage,
    *,
    timezone: str,
    region: str | None,
    settings: Settings,
    now: datetime,
    weeks_later: int,
) -> datetime:
    zone = ZoneInfo(timezone)
    if campaign.local_time:
        wall = message.send_at.astimezone(UTC).replace(tzinfo=None)
        local = wall.replace(tzinfo=zone)
    else:
        local = message.send_at.astimezone(zone)
    # Adding to a zoneinfo time keeps the wall clock: a week later is the same local hour.
    local += timedelta(weeks=weeks_later)
    local = max(local, now.astimezone(zone))  # late planning must still respect quiet hours
    return next_send_time(local, region, settings).astimezone(UTC)


def _weekly_cap(
    campaign: Campaign, *, due_at: datetime, timezone: str, settings: Settings
) -> tuple[SQLColumnExpression[Any], list[SQLColumnExpression[bool]]]:
    """The cap_week of texts due at `due_at` in `timezone`, and the condition that the
    caregiver's week has room (none, and no week, for an exception staff chose)."""
    if campaign.exceeds_weekly_cap:
        return null(), []
    week = literal(outbox.week_label(day=due_at.astimezone(ZoneInfo(timezone)).date()))
    used = texts_in_week_sql(caregiver_id=Caregiver.id, week=week)
    return week, [used < settings.messages_per_week]


def _plan_message(
    session: Session,
    campaign: Campaign,
    message: CampaignMessage,
    *,
    settings: Settings,
    now: datetime,
) -> int:
    condition = audience_condition(audience_of(campaign), zone=settings.zone, now=now)
    groups = session.execute(
        select(Caregiver.language, Caregiver.timezone, Caregiver.region).where(condition).distinct()
    ).all()
    dialect = session.get_bind().dialect.name
    inserted = 0
    for language, timezone, region in groups:
        text = message.texts.get(language)
        if not text:
            continue
        body = message_body(text, language=language, settings=settings)
        in_group = [
            condition,
            Caregiver.language == language,
            Caregiver.timezone == timezone,
            Caregiver.region.is_(None) if region is None else Caregiver.region == region,
        ]
        key = outbox.campaign_key_sql(campaign_message_id=message.id, caregiver_id=Caregiver.id)
        not_planned = ~exists().where(OutboundMessage.dedupe_key == key)
        # Week after week until everyone has it; it ends, as a week after every text already
        # planned has room.
        for weeks_later in count():
            due_at = _due_at(
                campaign,
                message,
                timezone=timezone,
                region=region,
                settings=settings,
                now=now,
                weeks_later=weeks_later,
            )
            cap_week, room = _weekly_cap(
                campaign, due_at=due_at, timezone=timezone, settings=settings
            )
            values: dict[str, SQLColumnExpression[Any]] = {
                "dedupe_key": key,
                "kind": literal("campaign"),
                "caregiver_id": Caregiver.id,
                "campaign_id": literal(campaign.id),
                "to_number": Caregiver.phone,
                "sender": outbox.sender_sql(caregiver_id=Caregiver.id),
                "body": literal(body),
                "segments": literal(analyze(body).segments),
                "state": literal("pending"),
                "due_at": literal(due_at, UTCDateTime()),
                "cap_week": cap_week,
                "attempts": literal(0),
                "created_at": literal(now, UTCDateTime()),
                "updated_at": literal(now, UTCDateTime()),
            }
            rows = select(*values.values()).where(*in_group, not_planned, *room)
            statement = (
                outbox.insert_ignoring_duplicates(dialect=dialect)
                .from_select(list(values), rows)
                .returning(OutboundMessage.id)  # rowcount is not reliable for INSERT ... SELECT
            )
            inserted += len(session.execute(statement).all())
            waiting = select(Caregiver.id).where(*in_group, not_planned).limit(1)
            if session.execute(waiting).first() is None:
                break
    return inserted
