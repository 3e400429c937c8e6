"""When a text may be sent: the local daily window outside quiet hours, narrower in some states."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sms_service.core.settings import Settings

# States whose telemarketing laws end the sending day at 20:00 local time (all start at 08:00).
# Informational tips are not telemarketing, but a parent's phone buzzing at 20:30 is exactly
# what these laws are about, and carriers and plaintiffs read them broadly, so we follow them:
#   FL  Florida Telephone Solicitation Act, Fla. Stat. 501.059(8)(a) (as amended July 2021)
#   OK  Oklahoma Telephone Solicitation Act of 2022, 15 Okla. Stat. 775C.4
#   MD  Maryland Stop the Spam Calls Act of 2023, Md. Com. Law 14-4503
#   MS  Mississippi Code 77-3-725 (telephone solicitation only 8 a.m. to 8 p.m.)
#   NJ  N.J. Stat. 56:8-127 and N.J.A.C. 13:45D-4.1 (no solicitation after 9 p.m.; 8 p.m. is
#       kept here because New Jersey bills pending since 2022 narrow it and we prefer margin)
STRICT_STATE_END = time(20, 0)
STRICT_STATES = frozenset({"FL", "MD", "MS", "NJ", "OK"})
STRICT_STATE_START = time(8, 0)
_END_OF_DAY = time(23, 59, 59, 999999)


def allowed_window(region: str | None, settings: Settings) -> tuple[time, time]:
    """The local (start, end) of the sending day for a caregiver in `region` (a US state code).

    Sending is allowed from `start` inclusive until `end` exclusive. It is the complement of
    Settings.quiet_hours (quiet 21:00-08:00 means send 08:00-21:00), narrowed in STRICT_STATES.
    Quiet hours that do not wrap midnight (e.g. 00:00-07:00) give a window that runs from
    their end to the end of the day: a window never spans midnight, which keeps "the slot's
    day" well defined for weekly planning (at worst it is stricter than configured).
    """
    start = settings.quiet_hours.end
    end = settings.quiet_hours.start
    if end <= start:
        end = _END_OF_DAY
    if region is not None and region.upper() in STRICT_STATES:
        start = max(start, STRICT_STATE_START)
        end = min(end, STRICT_STATE_END)
    return start, end


def next_send_time(local_dt: datetime, region: str | None, settings: Settings) -> datetime:
    """`local_dt` when it is inside the window, else the start of the next window (same zone)."""
    if local_dt.tzinfo is None:
        raise ValueError("next_send_time needs an aware datetime in the caregiver's zone")
    start, end = allowed_window(region, settings)
    moment = local_dt.timetz().replace(tzinfo=None)
    if start <= moment < end:
        return local_dt
    day = local_dt.date() if moment < start else local_dt.date() + timedelta(days=1)
    # combine() keeps the wall-clock time: 08:00 stays 08:00 local on either side of a DST change.
    return datetime.combine(day, start, tzinfo=local_dt.tzinfo)


def is_sendable_now(
    now_utc: datetime, timezone: str, region: str | None, settings: Settings
) -> bool:
    """True when `now_utc` falls inside the caregiver's local sending window."""
    start, end = allowed_window(region, settings)
    local = now_utc.astimezone(ZoneInfo(timezone)).time()
    return start <= local < end
