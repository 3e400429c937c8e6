"""Due slots: which weekly (weekday, hour) slots of each time zone and state to plan now."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, select

from sms_service.core import outbox
from sms_service.core.models import Caregiver, CaregiverStatus
from sms_service.core.settings import Settings
from sms_service.delivery.sendwindow import allowed_window, next_send_time

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DueSlot:
    """One weekly slot (weekday, hour) of a time zone and state whose send time has come."""

    timezone: str
    region: str
    weekday: int
    hour: int
    local_date: date
    due_at: datetime  # the moved slot, in UTC

    @property
    def week_label(self) -> str:
        return outbox.week_label(day=self.local_date)


def due_slots(
    *, now: datetime, timezone: str, region: str | None, settings: Settings
) -> list[DueSlot]:
    """The slots of caregivers in `timezone`/`region` to plan at `now` (see jobs.planner)."""
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    today = local_now.date()
    _, end = allowed_window(region, settings)
    if local_now.time() >= end:
        return []
    slots: list[DueSlot] = []
    # A slot lands on today either from today or, moved out of last night's quiet hours,
    # from yesterday.
    for day in (today - timedelta(days=1), today):
        for hour in range(24):
            moved = next_send_time(datetime.combine(day, time(hour), tzinfo=zone), region, settings)
            if moved.date() == today and moved <= local_now:
                slot = DueSlot(
                    timezone, region or "", day.weekday(), hour, today, moved.astimezone(UTC)
                )
                slots.append(slot)
    return slots


def due_slot_rows(
    connection: Connection, *, now: datetime, settings: Settings
) -> list[dict[str, Any]]:
    """The due slots that some active caregiver actually has (so quiet runs stay cheap)."""
    in_use = connection.execute(
        select(Caregiver.timezone, Caregiver.region, Caregiver.send_weekday, Caregiver.send_hour)
        .where(Caregiver.status == CaregiverStatus.ACTIVE)
        .distinct()
    ).all()
    wanted: dict[tuple[str, str | None], set[tuple[int | None, int | None]]] = {}
    for timezone, region, weekday, hour in in_use:
        wanted.setdefault((timezone, region), set()).add((weekday, hour))
    rows: list[dict[str, Any]] = []
    for (timezone, region), slots_in_use in wanted.items():
        try:
            slots = due_slots(now=now, timezone=timezone, region=region, settings=settings)
        except (ZoneInfoNotFoundError, ValueError):
            logger.error("caregivers with unknown time zone %r are not planned", timezone)
            continue
        rows.extend(
            {
                "timezone": slot.timezone,
                "region": slot.region,
                "weekday": slot.weekday,
                "hour": slot.hour,
                "local_date": slot.local_date,
                "week_label": slot.week_label,
                "due_at": slot.due_at,
            }
            for slot in slots
            if (slot.weekday, slot.hour) in slots_in_use
        )
    return rows
