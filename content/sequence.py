"""THE tip selection rule, shared by the planner, the preview and the coverage check."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Generic, Protocol, TypeVar


class Schedulable(Protocol):
    """What selection needs of a tip: content.library.Tip and models.Tip both qualify."""

    @property
    def id(self) -> str: ...
    @property
    def min_week(self) -> int: ...
    @property
    def max_week(self) -> int: ...


T = TypeVar("T", bound=Schedulable)


def selection_key(tip: Schedulable) -> tuple[int, int, str]:
    """Earliest deadline first: the tip whose range closes soonest goes first."""
    return (tip.max_week, tip.min_week, tip.id)


def _retired(tip: Schedulable) -> bool:
    # Library tips have no retirement; database tips (models.Tip) carry retired_at.
    retired_at: datetime | None = getattr(tip, "retired_at", None)
    return retired_at is not None


class Selector(Generic[T]):
    """Tips in selection order, for picking many times from the same set quickly."""

    def __init__(self, tips: Iterable[T]) -> None:
        self._ordered: list[T] = sorted(
            (tip for tip in tips if not _retired(tip)), key=selection_key
        )
        self._deadlines = [tip.max_week for tip in self._ordered]

    def next(self, *, age_weeks: int, seen_ids: Collection[str]) -> T | None:
        """The first tip in selection order that fits `age_weeks` and is not in `seen_ids`."""
        for tip in self._ordered[bisect_left(self._deadlines, age_weeks) :]:
            if tip.min_week <= age_weeks and tip.id not in seen_ids:
                return tip
        return None


def next_tip(tips: Iterable[T], *, age_weeks: int, seen_ids: Collection[str]) -> T | None:
    """The tip to send a child of `age_weeks` who already had `seen_ids`.

    Among the given tips (the caregiver's language), not retired, with min_week <= age_weeks
    <= max_week and not already sent, the one with the smallest (max_week, min_week, id).
    """
    best: T | None = None
    for tip in tips:
        if (
            tip.min_week <= age_weeks <= tip.max_week
            and tip.id not in seen_ids
            and not _retired(tip)
            and (best is None or selection_key(tip) < selection_key(best))
        ):
            best = tip
    return best


def journey(tips: Sequence[T], *, start_week: int, end_week: int) -> list[tuple[int, T | None]]:
    """Week by week from start_week up to (not including) end_week: the tip each week gets."""
    selector = Selector(tips)
    seen: set[str] = set()
    weeks: list[tuple[int, T | None]] = []
    for week in range(start_week, end_week):
        tip = selector.next(age_weeks=week, seen_ids=seen)
        if tip is not None:
            seen.add(tip.id)
        weeks.append((week, tip))
    return weeks
