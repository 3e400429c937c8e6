"""The coverage simulation: every enrollment week gets a distinct tip every week to 36 months."""

from __future__ import annotations

from content.coverage import END_WEEK, PRENATAL_WEEKS, enrollment_starts, find_gaps
from content.library import Tip


def tips_for(ranges: list[tuple[int, int]]) -> list[Tip]:
    return [
        Tip(f"en-{n:03d}", "en", first, last, "joy", f"tip {n}", "tips.yaml")
        for n, (first, last) in enumerate(ranges)
    ]


def one_a_week() -> list[tuple[int, int]]:
    # A tip per week, each usable for 5 weeks: every child has a fresh one whenever it joins.
    return [(week, min(week + 4, END_WEEK - 1)) for week in range(-PRENATAL_WEEKS, END_WEEK)]


def test_starts_are_the_prenatal_window_and_every_week_to_36_months() -> None:
    assert list(enrollment_starts()) == list(range(-12, 156))


def test_a_library_with_a_fresh_tip_every_week_has_no_gaps() -> None:
    assert find_gaps(tips_for(one_a_week())) == []


def test_missing_tips_are_a_gap_for_the_children_who_reach_it() -> None:
    # The five tips usable at week 100 are gone; with one fresh tip a week, a child who used
    # each week's tip runs dry for five weeks (96..100).
    ranges = [(first, last) for first, last in one_a_week() if not first <= 100 <= last]
    gaps = find_gaps(tips_for(ranges))
    assert [(gap.first_week, gap.last_week) for gap in gaps] == [(96, 100)]
    assert gaps[0].starts == tuple(range(-12, 101))
    assert gaps[0].describe() == (
        "no distinct tip left at age weeks 96 to 100 for children enrolled at weeks -12 to 100 "
        "(113 enrollment weeks); add tips whose ranges include these weeks"
    )


def test_too_few_tips_for_a_long_range_runs_dry_even_when_every_week_is_in_some_range() -> None:
    # Weeks 0..155 are all inside a range, but 20 tips cannot give 156 distinct weeks.
    ranges = [(-12, -1)] * 12 + [(0, 155)] * 20
    gaps = find_gaps(tips_for(ranges))
    assert gaps and gaps[0].first_week == 20 and gaps[-1].last_week == 155


def test_prenatal_weeks_need_their_own_tips() -> None:
    ranges = [(first, last) for first, last in one_a_week() if first >= 0]
    gaps = find_gaps(tips_for(ranges))
    assert [(gap.first_week, gap.last_week) for gap in gaps] == [(-12, -1)]
