"""Library statistics: tips per age band, language and theme, and journey coverage."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from content.coverage import END_WEEK, PRENATAL_WEEKS, find_gaps
from content.library import LANGUAGES, Library
from content.sequence import journey

# (label, first week, last week) in weeks of age; prenatal weeks count down to the due date.
AGE_BANDS = (
    ("prenatal", -42, -1),
    ("0-3 months", 0, 12),
    ("3-6 months", 13, 25),
    ("6-12 months", 26, 51),
    ("12-18 months", 52, 77),
    ("18-24 months", 78, 103),
    ("24-36 months", 104, END_WEEK - 1),
)


@dataclass
class BandStats:
    """One age band of one language."""

    label: str
    first_week: int
    last_week: int
    tips: int = 0  # tips whose range starts in this band
    themes: Counter[str] = field(default_factory=Counter)
    journey_weeks: int = 0  # weeks in the band the simulated child is enrolled
    journey_tips: int = 0  # of those, weeks it gets a tip
    gap_weeks: int = 0  # weeks where some enrollment start gets no tip


def _band_of(week: int) -> str:
    for label, first, last in AGE_BANDS:
        if first <= week <= last:
            return label
    return AGE_BANDS[-1][0]


def library_stats(library: Library) -> dict[str, list[BandStats]]:
    """Per language, per age band: tips, themes, and what a child enrolled early would get."""
    result: dict[str, list[BandStats]] = {}
    for language in LANGUAGES:
        tips = library.tips.get(language, [])
        bands = {label: BandStats(label, first, last) for label, first, last in AGE_BANDS}
        for tip in tips:
            band = bands[_band_of(tip.min_week)]
            band.tips += 1
            band.themes[tip.theme] += 1
        for week, picked in journey(tips, start_week=-PRENATAL_WEEKS, end_week=END_WEEK):
            band = bands[_band_of(week)]
            band.journey_weeks += 1
            band.journey_tips += picked is not None
        for gap in find_gaps(tips):
            for week in range(gap.first_week, gap.last_week + 1):
                bands[_band_of(week)].gap_weeks += 1
        result[language] = list(bands.values())
    return result
