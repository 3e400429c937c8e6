"""The shipped library and system messages pass every check, coverage included, en and es."""

from __future__ import annotations

from content.ages import EARLIEST_WEEK
from content.checker import check_library, default_catalogs
from content.coverage import END_WEEK, never_received, simulate
from content.library import load_library
from content.sequence import journey


def test_the_shipped_library_passes_content_check() -> None:
    library = load_library()
    report = check_library(library, catalogs=default_catalogs())
    assert report.ok, "\n".join(finding.line() for finding in report.errors)
    for language in ("en", "es"):
        summary = report.summaries[language]
        assert summary.tips >= END_WEEK - EARLIEST_WEEK
        assert summary.average_segments <= 2
        assert summary.journey_segments <= 2 * END_WEEK
    assert set(report.catalogs.values()) != {0}  # the system messages were checked


def test_every_enrollment_week_gets_a_distinct_tip_each_week_in_both_languages() -> None:
    library = load_library()
    for language in ("en", "es"):
        tips = library.tips[language]
        prenatal = [tip for tip in tips if tip.max_week < 0]
        assert len(prenatal) >= -EARLIEST_WEEK
        assert never_received(tips, simulate(tips)) == [], language
        for start in (EARLIEST_WEEK, -20, 0, 77, 155):
            weeks = journey(tips, start_week=start, end_week=END_WEEK)
            sent = [tip.id for _, tip in weeks if tip is not None]
            assert len(sent) == len(weeks) == len(set(sent)), (language, start)
            assert all(tip.min_week <= week <= tip.max_week for week, tip in weeks if tip)
