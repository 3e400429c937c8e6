"""Coverage: every child, whatever week it enrolls, gets a distinct fitting tip every week."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from content.library import Tip
from content.sequence import Selector

END_WEEK = 156  # 36 months: the child ages out
PRENATAL_WEEKS = 12  # expecting parents get tips in the last 12 weeks before the due date


@dataclass(frozen=True)
class Gap:
    """Consecutive weeks of age at which some enrolled children would get no tip."""

    first_week: int
    last_week: int
    starts: tuple[int, ...]  # the enrollment weeks that run dry somewhere in these weeks

    def describe(self) -> str:
        """One line for the checker: the weeks, and which enrollment weeks run dry there."""
        weeks = (
            f"age week {self.first_week}"
            if self.first_week == self.last_week
            else f"age weeks {self.first_week} to {self.last_week}"
        )
        first, last = self.starts[0], self.starts[-1]
        enrolled = f"week {first}" if first == last else f"weeks {first} to {last}"
        return (
            f"no distinct tip left at {weeks} for children enrolled at {enrolled} "
            f"({len(self.starts)} enrollment weeks); add tips whose ranges include these weeks"
        )


def enrollment_starts() -> range:
    """Every week a child can enroll at: the prenatal window, then birth to 36 months."""
    return range(-PRENATAL_WEEKS, END_WEEK)


def find_gaps(tips: Sequence[Tip]) -> list[Gap]:
    """Simulate a child enrolled at every start week, one tip a week until week 156 through
    the selection rule; the runs of weeks where some child would get nothing."""
    selector = Selector(tips)
    dry: defaultdict[int, set[int]] = defaultdict(set)
    for start in enrollment_starts():
        seen: set[str] = set()
        for week in range(start, END_WEEK):
            tip = selector.next(age_weeks=week, seen_ids=seen)
            if tip is None:
                dry[week].add(start)
            else:
                seen.add(tip.id)
    gaps: list[Gap] = []
    for week in sorted(dry):
        if gaps and gaps[-1].last_week == week - 1:
            previous = gaps.pop()
            starts = tuple(sorted(set(previous.starts) | dry[week]))
            gaps.append(Gap(previous.first_week, week, starts))
        else:
            gaps.append(Gap(week, week, tuple(sorted(dry[week]))))
    return gaps
