"""Library statistics: tips per age band, language and theme, journey coverage, and what a
child's name as written costs in segments."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from content.ages import EARLIEST_WEEK
from content.coverage import END_WEEK, find_gaps
from content.library import LANGUAGES, Library
from content.message_rules import DEFAULT_PROGRAM
from content.render import render_tip
from content.segments import analyze
from content.sequence import journey

# A name as parents write it, and the same name squeezed into GSM-7: í forces UCS-2.
WRITTEN_NAME, GSM_NAME = "Sofía", "Sofia"

# (label, first week, last week) in weeks of age; prenatal weeks count down to the due date.
AGE_BANDS = (
    ("prenatal", EARLIEST_WEEK, -1),
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
        for week, picked in journey(tips, start_week=EARLIEST_WEEK, end_week=END_WEEK):
            band = bands[_band_of(week)]
            band.journey_weeks += 1
            band.journey_tips += picked is not None
        for gap in find_gaps(tips):
            for week in range(gap.first_week, gap.last_week + 1):
                bands[_band_of(week)].gap_weeks += 1
        result[language] = list(bands.values())
    return result


@dataclass(frozen=True)
class NameCost:
    """Segments of a child's journey (enrolled at birth) with a name as written, and with it
    squeezed into GSM-7: names are sent as written, and this is their price."""

    language: str
    tips: int
    ucs2_tips: int  # tips the written name turns from GSM-7 into UCS-2
    gsm_journey: int
    written_journey: int

    def describe(self) -> str:
        """One line for `sms-tips content stats`."""
        return (
            f"{self.language}: the name {WRITTEN_NAME!r} as written turns {self.ucs2_tips} of "
            f"{self.tips} tips into UCS-2; a 156-week journey costs {self.written_journey} "
            f"segments, {self.written_journey - self.gsm_journey:+d} against {GSM_NAME!r}"
        )


def name_costs(library: Library, *, program_name: str = DEFAULT_PROGRAM) -> list[NameCost]:
    """Per language, what sending WRITTEN_NAME as written costs over GSM_NAME."""

    def body(text: str, language: str, name: str, week: int) -> str:
        return render_tip(
            text, language=language, child_name=name, age_weeks=week, program_name=program_name
        )

    costs = []
    for language in LANGUAGES:
        tips = library.tips.get(language, [])
        ucs2 = sum(
            analyze(body(tip.text, language, GSM_NAME, tip.min_week)).encoding == "GSM-7"
            and analyze(body(tip.text, language, WRITTEN_NAME, tip.min_week)).encoding == "UCS-2"
            for tip in tips
        )
        weeks = [(week, tip) for week, tip in journey(tips, start_week=0, end_week=END_WEEK) if tip]
        gsm, written = (
            sum(analyze(body(tip.text, language, name, week)).segments for week, tip in weeks)
            for name in (GSM_NAME, WRITTEN_NAME)
        )
        costs.append(NameCost(language, len(tips), ucs2, gsm, written))
    return costs
