"""Date ranges staff ask for, and the clear refusals of bad ones."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from sms_service.reports.period import Period, PeriodError, parse_period

ZONE = ZoneInfo("America/New_York")
TODAY = date(2026, 12, 2)


def ask(preset: str | None = None, first: str | None = None, last: str | None = None) -> Period:
    return parse_period(preset=preset, first=first, last=last, today=TODAY, zone=ZONE)


def test_presets_end_today() -> None:
    week = ask("week")
    assert (week.first, week.last, week.days) == (date(2026, 11, 26), TODAY, 7)
    assert ask().preset == "4weeks" and ask().days == 28
    assert [low.date() for low, _ in ask("4weeks").weeks()][-1] == date(2026, 11, 26)
    assert ask("week").query() == {"range": "week"}


def test_custom_range() -> None:
    period = ask("custom", "2026-11-01", "2026-11-10")
    assert (period.first, period.last, period.days) == (date(2026, 11, 1), date(2026, 11, 10), 10)
    assert period.start.isoformat() == "2026-11-01T00:00:00-04:00"
    assert period.end.isoformat() == "2026-11-11T00:00:00-05:00"  # daylight saving ended
    assert [(high.date() - low.date()).days for low, high in period.weeks()] == [7, 3]
    assert ask(None, "2026-11-01").last == TODAY  # no end: up to today


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("yesterday", "2026-11-10", "is not a date"),
        ("2026-11-10", "2026-13-01", "is not a date"),
        ("2026-11-10", "2026-11-01", "starts (2026-11-10) after it ends (2026-11-01)"),
        ("2026-11-10", "2099-01-01", "cannot end after today (2026-12-02)"),
        ("2020-01-01", "2026-11-01", "longer than two years"),
        ("", "2026-11-01", "Choose a start date"),
    ],
)
def test_bad_ranges_are_refused_in_words(first: str, last: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ask("custom", first, last)


def test_an_unknown_preset_is_refused() -> None:
    with pytest.raises(PeriodError, match="Choose last week"):
        ask("year", "2026-11-01")
