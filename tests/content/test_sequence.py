"""THE selection rule: earliest deadline first, never a tip twice, never a retired tip."""

from __future__ import annotations

import random

from content.library import Tip
from content.sequence import Selector, journey, next_tip
from sms_service.core.models import Tip as TipRow
from sms_service.core.models import utcnow


def make(tip_id: str, first: int, last: int) -> Tip:
    return Tip(tip_id, "en", first, last, "connection", f"text {tip_id}", "tips.yaml")


def test_picks_the_tip_whose_range_closes_first_then_the_earliest_start_then_the_id() -> None:
    tips = [make("en-c", 0, 20), make("en-b", 5, 12), make("en-a", 2, 12), make("en-z", 3, 12)]
    assert next_tip(tips, age_weeks=6, seen_ids=set()) == tips[2]  # (12, 2, en-a)
    assert next_tip(tips, age_weeks=6, seen_ids={"en-a"}) == tips[3]  # (12, 3, en-z)
    assert next_tip(tips, age_weeks=6, seen_ids={"en-a", "en-z"}) == tips[1]
    assert next_tip(tips, age_weeks=6, seen_ids={"en-a", "en-z", "en-b"}) == tips[0]
    assert next_tip(tips, age_weeks=6, seen_ids={"en-a", "en-z", "en-b", "en-c"}) is None


def test_only_tips_whose_range_includes_the_age() -> None:
    tips = [make("en-early", 0, 4), make("en-late", 8, 10)]
    assert next_tip(tips, age_weeks=4, seen_ids=set()) == tips[0]
    assert next_tip(tips, age_weeks=5, seen_ids=set()) is None
    assert next_tip(tips, age_weeks=8, seen_ids=set()) == tips[1]
    assert next_tip(tips, age_weeks=11, seen_ids=set()) is None


def test_database_tips_that_are_retired_are_never_picked() -> None:
    kept = TipRow(id="en-kept", language="en", min_week=0, max_week=9, theme="joy", text="t")
    retired = TipRow(id="en-old", language="en", min_week=0, max_week=5, theme="joy", text="t")
    retired.retired_at = utcnow()
    kept.retired_at = None
    assert next_tip([retired, kept], age_weeks=3, seen_ids=set()) is kept
    assert Selector([retired, kept]).next(age_weeks=3, seen_ids=set()) is kept


def test_the_fast_selector_agrees_with_next_tip() -> None:
    rng = random.Random(7)
    for _ in range(50):
        tips = []
        for number in range(30):
            first = rng.randint(-12, 150)
            tips.append(make(f"en-{number:02d}", first, min(first + rng.randint(0, 8), 155)))
        seen = {tip.id for tip in rng.sample(tips, 10)}
        selector = Selector(tips)
        for age in range(-12, 156):
            assert selector.next(age_weeks=age, seen_ids=seen) == next_tip(
                tips, age_weeks=age, seen_ids=seen
            )


def test_journey_gives_one_distinct_tip_a_week_and_none_when_nothing_fits() -> None:
    tips = [make("en-a", 0, 1), make("en-b", 0, 1), make("en-c", 1, 3)]
    weeks = journey(tips, start_week=0, end_week=4)
    assert [(week, tip.id if tip else None) for week, tip in weeks] == [
        (0, "en-a"),
        (1, "en-b"),
        (2, "en-c"),
        (3, None),
    ]
