"""The date range a report covers: last week, last 4 weeks, or custom dates, validated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PRESETS = {"week": ("Last week (7 days)", 7), "4weeks": ("Last 4 weeks", 28)}
DEFAULT_PRESET = "4weeks"
CUSTOM = "custom"
MAX_DAYS = 731  # two years: the weekly series stays readable


class PeriodError(ValueError):
    """A range staff asked for that cannot be reported on; the message says why."""


@dataclass(frozen=True)
class Period:
    """Local dates `first`..`last` (both included) in the program's zone."""

    first: date
    last: date
    zone: ZoneInfo
    preset: str = CUSTOM

    @property
    def start(self) -> datetime:
        """The first instant of the range (local midnight of `first`)."""
        return datetime.combine(self.first, time(0), tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        """The instant after the range (local midnight after `last`)."""
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self.zone)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def label(self) -> str:
        if self.preset in PRESETS:
            return f"{PRESETS[self.preset][0]}: {self.first} to {self.last}"
        return f"{self.first} to {self.last}"

    def weeks(self) -> list[tuple[datetime, datetime]]:
        """7-day buckets from the first day; the last one may be shorter."""
        buckets = []
        low = self.first
        while low <= self.last:
            high = min(low + timedelta(days=7), self.last + timedelta(days=1))
            buckets.append(
                (
                    datetime.combine(low, time(0), tzinfo=self.zone),
                    datetime.combine(high, time(0), tzinfo=self.zone),
                )
            )
            low = high
        return buckets

    def query(self) -> dict[str, str]:
        """The query parameters that ask for this range again (for links and exports)."""
        if self.preset in PRESETS:
            return {"range": self.preset}
        return {"range": CUSTOM, "from": self.first.isoformat(), "to": self.last.isoformat()}


def preset_period(preset: str, *, today: date, zone: ZoneInfo) -> Period:
    """The named range ending today."""
    days = PRESETS[preset][1]
    return Period(today - timedelta(days=days - 1), today, zone, preset)


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        message = f"The {name} date “{value[:20]}” is not a date: use YYYY-MM-DD."
        raise PeriodError(message) from None


def parse_period(
    *, preset: str | None, first: str | None, last: str | None, today: date, zone: ZoneInfo
) -> Period:
    """The range asked for by `range`, `from` and `to` (custom when dates are given)."""
    preset = (preset or "").strip()
    if preset in PRESETS and not first and not last:
        return preset_period(preset, today=today, zone=zone)
    if not preset and not first and not last:
        return preset_period(DEFAULT_PRESET, today=today, zone=zone)
    if preset not in ("", CUSTOM, *PRESETS):
        raise PeriodError("Choose last week, last 4 weeks or a custom range.")
    if not first:
        raise PeriodError("Choose a start date for the custom range.")
    start = _day(first, "start")
    end = _day(last, "end") if last else today
    if start > end:
        raise PeriodError(f"The range starts ({start}) after it ends ({end}).")
    if end > today:
        raise PeriodError(f"The range cannot end after today ({today}).")
    if (end - start).days + 1 > MAX_DAYS:
        raise PeriodError("The range is longer than two years: choose a shorter one.")
    return Period(start, end, zone, CUSTOM)


def period_from_query(params: Mapping[str, str], *, today: date, zone: ZoneInfo) -> Period:
    """The range asked for by a query string's `range`, `from` and `to`."""
    return parse_period(
        preset=params.get("range", "")[:20],
        first=params.get("from", "")[:20],
        last=params.get("to", "")[:20],
        today=today,
        zone=zone,
    )
