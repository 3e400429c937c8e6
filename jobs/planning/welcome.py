"""First tips: a caregiver who just enrolled gets an age-matched tip at once, as that week's tip.

A family that signs up on Monday evening for Sunday mornings would otherwise wait six days for
anything after "You're signed up!"; programs like Text4baby send a starter text instead. The
first tip goes through the same query as every weekly tip (jobs.planning.batches), with a slot
of its own per caregiver: the same selection rule, rendering and household cap, and the same
dedupe key tip:{caregiver}:{child}:{local ISO week}, so it is that week's tip and the weekly
slot later in the same week finds the week taken. Quiet hours hold: a caregiver who enrolls
at night is in the first run after the sending window opens.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, exists, select

from sms_service.core import outbox
from sms_service.core.models import Caregiver, CaregiverStatus, OutboundMessage
from sms_service.core.settings import Settings
from sms_service.delivery.sendwindow import allowed_window

# How long after enrolling a caregiver with no tip yet is still "just enrolled": past the
# longest quiet night and a planner that was down for a day; their weekly slot covers the rest.
WELCOME_WITHIN = timedelta(days=2)


def first_tip_rows(
    connection: Connection, *, now: datetime, settings: Settings
) -> list[dict[str, Any]]:
    """plan_welcome rows: active caregivers who enrolled within WELCOME_WITHIN, have had no tip
    since, and are inside their sending window now."""
    tipped = exists().where(
        OutboundMessage.caregiver_id == Caregiver.id,
        OutboundMessage.kind == "tip",
        OutboundMessage.created_at >= Caregiver.enrolled_at,
    )
    waiting = connection.execute(
        select(Caregiver.id, Caregiver.timezone, Caregiver.region).where(
            Caregiver.enrolled_at >= now - WELCOME_WITHIN,
            Caregiver.status == CaregiverStatus.ACTIVE,
            ~tipped,
        )
    ).all()
    rows: list[dict[str, Any]] = []
    for caregiver_id, timezone, region in waiting:
        try:
            local_now = now.astimezone(ZoneInfo(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            continue  # due_slot_rows logs these caregivers once per run
        start, end = allowed_window(region, settings)
        if start <= local_now.time() < end:
            day = local_now.date()
            rows.append(
                {
                    "caregiver_id": caregiver_id,
                    "local_date": day,
                    "week_label": outbox.week_label(day=day),
                    "due_at": now,
                }
            )
    return rows
