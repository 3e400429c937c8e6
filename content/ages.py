"""The program's age window: the birth and due dates it serves, up to 36 months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

OLDEST_WEEKS = 156  # 36 months: the program ends there
# A due date is 280 days after the last period, and a pregnancy is known two weeks after that
# at the earliest: a due date further ahead than 40 weeks is a typo.
FURTHEST_DUE_DAYS = 280
EARLIEST_WEEK = -(FURTHEST_DUE_DAYS // 7)  # the youngest age in weeks a family can enroll at


class BirthProblem(Enum):
    """Why a birth or due date is not taken."""

    UNREADABLE = "unreadable"
    TOO_OLD = "too_old"  # 36 months or older: past the program
    TOO_FAR = "too_far"  # a due date implausibly far ahead


@dataclass(frozen=True)
class Birth:
    """A birth date, or the due date while the baby is expected."""

    date: date
    is_expected: bool


def checked_birth(found: date, *, today: date) -> Birth | BirthProblem:
    """`found` as a due date (in the future) or a birth date, if the program serves it."""
    if found > today:
        if (found - today).days > FURTHEST_DUE_DAYS:
            return BirthProblem.TOO_FAR
        return Birth(found, is_expected=True)
    if (today - found).days // 7 >= OLDEST_WEEKS:
        return BirthProblem.TOO_OLD
    return Birth(found, is_expected=False)
