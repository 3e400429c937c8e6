"""The coverage simulation: every enrollment week gets a distinct tip every week to 36 months."""

from __future__ import annotations

from content.ages import EARLIEST_WEEK, FURTHEST_DUE_DAYS
from content.coverage import END_WEEK, enrollment_starts, find_gaps, never_received, simulate
from content.library import Tip


def tips_for(ranges: list[tuple[int, int]]) -> list[Tip]:
    return [
        Tip(f"en-{n:03d}", "en", first, last, "joy", f"tip {n}", "tips.yaml")
        for n, (first, last) in enumerate(ranges)
    ]


def one_a_week() -> list[tuple[int, int]]:
    # A tip per week, each usable for 5 weeks: every child has a fresh one whenever it joins.
    return [(week, min(week + 4, END_WEEK - 1)) for week in range(EARLIEST_WEEK, END_WEEK)]


def test_starts_run_from_the_furthest_accepted_due_date_to_36_months() -> None:
    # Sign-up takes a due date up to 280 days ahead: that family is at week -40.
    assert FURTHEST_DUE_DAYS == 280
    assert list(enrollment_starts()) == list(range(-40, 156))


def test_a_library_with_a_fresh_tip_every_week_has_no_gaps() -> None:
    assert find_gaps(tips_for(one_a_week())) == []


def test_missing_tips_are_a_gap_for_the_children_who_reach_it() -> None:
    # The five tips usable at week 100 are gone; with one fresh tip a week, a child who used
    # each week's tip runs dry for five weeks (96..100).
    ranges = [(first, last) for first, last in one_a_week() if not first <= 100 <= last]
    gaps = find_gaps(tips_for(ranges))
    assert [(gap.first_week, gap.last_week) for gap in gaps] == [(96, 100)]
    assert gaps[0].starts == tuple(range(-40, 101))
    assert gaps[0].describe() == (
        "no distinct tip left at age weeks 96 to 100 for children enrolled at weeks -40 to 100 "
        "(141 enrollment weeks); add tips whose ranges include these weeks"
    )


def test_too_few_tips_for_a_long_range_runs_dry_even_when_every_week_is_in_some_range() -> None:
    # Weeks 0..155 are all inside a range, but 20 tips cannot give 156 distinct weeks.
    ranges = [(-40, -1)] * 40 + [(0, 155)] * 20
    gaps = find_gaps(tips_for(ranges))
    assert gaps and gaps[0].first_week == 20 and gaps[-1].last_week == 155


def test_prenatal_weeks_need_their_own_tips() -> None:
    ranges = [(first, last) for first, last in one_a_week() if first >= 0]
    gaps = find_gaps(tips_for(ranges))
    assert [(gap.first_week, gap.last_week) for gap in gaps] == [(-40, -1)]


def test_a_family_signing_up_at_the_furthest_due_date_hears_every_week() -> None:
    # Prenatal tips only from week -14, as the library once had: the family that signs up 40
    # weeks ahead waits 26 weeks, and the check says so.
    ranges = [(first, last) for first, last in one_a_week() if first >= -14]
    gaps = find_gaps(tips_for(ranges))
    assert [(gap.first_week, gap.last_week) for gap in gaps] == [(-40, -15)]


def test_every_tip_is_received_by_some_enrollment_week() -> None:
    delivery = simulate(tips_for(one_a_week()))
    assert delivery.received and min(delivery.received.values()) >= 1
    tip = tips_for(one_a_week())[0]
    assert delivery.share(tip) == delivery.received[tip.id] / 196


def test_closing_tips_behind_surplus_tips_reach_nobody() -> None:
    # As the library once had: a tip a week until 148, seven closing tips for weeks 149..155
    # each open until 155, and three more tips than weeks around week 130. Whoever enrolls, a
    # tip that closes sooner is always waiting, so the last three closing tips reach nobody.
    stream = [(first, last) for first, last in one_a_week() if first < 149]
    closing = [(week, 155) for week in range(149, 156)]
    tips = tips_for(stream + closing + [(130, 140)] * 3)
    never = never_received(tips, simulate(tips))
    assert [(tip.min_week, tip.max_week) for tip in never] == [(153, 155), (154, 155), (155, 155)]
    assert never_received(tips_for(stream + closing), simulate(tips_for(stream + closing))) == []
