"""Send windows: quiet hours, stricter states, and moving a slot to the next allowed time."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from sms_service.core.settings import Settings
from sms_service.delivery.sendwindow import allowed_window, is_sendable_now, next_send_time

NEW_YORK = ZoneInfo("America/New_York")
SETTINGS = Settings()


@pytest.mark.parametrize("region", [None, "NY", "CA", "TX", "ny"])
def test_default_window_is_the_complement_of_quiet_hours(region: str | None) -> None:
    assert allowed_window(region, SETTINGS) == (time(8, 0), time(21, 0))


@pytest.mark.parametrize("region", ["FL", "MD", "MS", "NJ", "OK", "fl"])
def test_stricter_states_end_at_eight_pm(region: str) -> None:
    assert allowed_window(region, SETTINGS) == (time(8, 0), time(20, 0))


def test_configured_quiet_hours_are_honoured_and_strict_states_narrow_them() -> None:
    settings = Settings.from_env({"SMS_TIPS_QUIET_HOURS": "20:30-09:15"}, env_file=None)
    assert allowed_window("NY", settings) == (time(9, 15), time(20, 30))
    assert allowed_window("FL", settings) == (time(9, 15), time(20, 0))


def test_quiet_hours_ending_the_day_at_midnight_keep_the_window_within_the_day() -> None:
    settings = Settings.from_env({"SMS_TIPS_QUIET_HOURS": "00:00-07:00"}, env_file=None)
    start, end = allowed_window(None, settings)
    assert start == time(7, 0)
    assert end > time(23, 59)


@pytest.mark.parametrize(
    ("local", "region", "expected"),
    [
        (datetime(2026, 3, 2, 18, 0), None, datetime(2026, 3, 2, 18, 0)),
        (datetime(2026, 3, 2, 8, 0), None, datetime(2026, 3, 2, 8, 0)),
        (datetime(2026, 3, 2, 6, 30), None, datetime(2026, 3, 2, 8, 0)),
        (datetime(2026, 3, 2, 21, 0), None, datetime(2026, 3, 3, 8, 0)),
        (datetime(2026, 3, 2, 20, 59), None, datetime(2026, 3, 2, 20, 59)),
        (datetime(2026, 3, 2, 20, 0), "FL", datetime(2026, 3, 3, 8, 0)),
        (datetime(2026, 3, 2, 19, 59), "FL", datetime(2026, 3, 2, 19, 59)),
        (datetime(2026, 3, 2, 23, 30), "OK", datetime(2026, 3, 3, 8, 0)),
    ],
)
def test_next_send_time(local: datetime, region: str | None, expected: datetime) -> None:
    moved = next_send_time(local.replace(tzinfo=NEW_YORK), region, SETTINGS)
    assert moved == expected.replace(tzinfo=NEW_YORK)
    assert moved.tzinfo is NEW_YORK


def test_next_send_time_keeps_eight_am_local_across_the_spring_dst_change() -> None:
    # 2026-03-08 is the US spring-forward day: 21:30 EST Saturday -> 08:00 EDT Sunday.
    moved = next_send_time(datetime(2026, 3, 7, 21, 30, tzinfo=NEW_YORK), None, SETTINGS)
    assert (moved.hour, moved.minute) == (8, 0)
    assert moved.astimezone(UTC) == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


def test_next_send_time_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_send_time(datetime(2026, 3, 2, 18, 0), None, SETTINGS)


def test_is_sendable_now_uses_the_caregivers_local_clock() -> None:
    # 01:30 UTC on 2026-07-02 is 21:30 in New York (EDT) and 18:30 in Los Angeles (PDT).
    now = datetime(2026, 7, 2, 1, 30, tzinfo=UTC)
    assert not is_sendable_now(now, "America/New_York", "NY", SETTINGS)
    assert is_sendable_now(now, "America/Los_Angeles", "CA", SETTINGS)
    # 00:30 UTC is 20:30 in Miami: allowed by default quiet hours, not by Florida's law.
    now = datetime(2026, 7, 2, 0, 30, tzinfo=UTC)
    assert is_sendable_now(now, "America/New_York", "NY", SETTINGS)
    assert not is_sendable_now(now, "America/New_York", "FL", SETTINGS)
