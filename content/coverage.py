"""Coverage: every child, whatever week it enrolls, gets a distinct fitting tip every week, and
every tip reaches some child."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from content.ages import EARLIEST_WEEK, OLDEST_WEEKS
from content.library import Tip
from content.sequence import Selector

END_WEEK = OLDEST_WEEKS  # 36 months: the child ages out


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
    """Every week a child can enroll at: from the furthest due date sign-up accepts, then
    birth to 36 months."""
    return range(EARLIEST_WEEK, END_WEEK)


@dataclass(frozen=True)
class Delivery:
    """What simulating every enrollment week through the selection rule found."""

    received: Counter[str]  # tip id -> how many enrollment weeks receive it
    dry: dict[int, set[int]]  # week of age -> the enrollment weeks that get nothing then

    def share(self, tip: Tip) -> float:
        """The share of enrollment weeks whose child receives `tip`."""
        return self.received[tip.id] / len(enrollment_starts())


def simulate(tips: Sequence[Tip]) -> Delivery:
    """A child enrolled at every start week, one tip a week until week 156, through THE
    selection rule (content.sequence, as the planner uses it)."""
    selector = Selector(tips)
    received: Counter[str] = Counter()
    dry: defaultdict[int, set[int]] = defaultdict(set)
    for start in enrollment_starts():
        seen: set[str] = set()
        for week in range(start, END_WEEK):
            tip = selector.next(age_weeks=week, seen_ids=seen)
            if tip is None:
                dry[week].add(start)
            else:
                seen.add(tip.id)
        received.update(seen)
    return Delivery(received, dict(dry))


def never_received(tips: Sequence[Tip], delivery: Delivery) -> list[Tip]:
    """Tips no enrollment week receives: every week of their range, a tip that closes sooner
    is always waiting."""
    return [tip for tip in tips if delivery.received[tip.id] == 0]


def find_gaps(tips: Sequence[Tip], delivery: Delivery | None = None) -> list[Gap]:
    """The runs of weeks where some enrolled child would get nothing."""
    dry = (delivery or simulate(tips)).dry
    gaps: list[Gap] = []
    for week in sorted(dry):
        if gaps and gaps[-1].last_week == week - 1:
            previous = gaps.pop()
            starts = tuple(sorted(set(previous.starts) | dry[week]))
            gaps.append(Gap(previous.first_week, week, starts))
        else:
            gaps.append(Gap(week, week, tuple(sorted(dry[week]))))
    return gaps
