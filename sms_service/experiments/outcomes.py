"""What each wording led to: counts and rates per arm, B - A with a 95% interval, in words.

Rates are over the families sent the tip in that arm (each family sees its arm once):
delivered, replied within 48 hours (reports.answers' rule, counted by the caller), opted out
within 7 days. This module is pure arithmetic on counts; reading them from the database is the
next step.

The interval for B - A is Newcombe's hybrid score interval (Newcombe 1998, method 10), built
from each arm's Wilson score interval, rather than the Wald interval p_B - p_A +/- 1.96 * SE:
opt-outs within 7 days are rare (a few per thousand), and there Wald's coverage falls well
below 95% and its bounds can leave [-1, 1], while Newcombe's stays close to 95% and in range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054  # two-sided 95%
Z_80_POWER = 0.8416212335729143  # the size needed to tell is for 80% power
OUTCOMES = {
    "delivered": "Delivered",
    "replied_48h": "Replied within 48 hours",
    "opted_out_7d": "Opted out within 7 days",
}


@dataclass(frozen=True)
class ArmCounts:
    """One arm's families sent the tip and how many of them each outcome happened to."""

    arm: str
    sent: int
    delivered: int
    replied_48h: int
    opted_out_7d: int

    def rate(self, outcome: str) -> float | None:
        """The outcome's share of families sent the tip; None before anyone was sent it."""
        count: int = getattr(self, outcome)
        return count / self.sent if self.sent else None


@dataclass(frozen=True)
class Comparison:
    """One outcome in both arms: rates, the difference B - A and its 95% interval."""

    outcome: str
    rate_a: float | None
    rate_b: float | None
    difference: float | None
    low: float | None
    high: float | None
    sentence: str

    @property
    def clear(self) -> bool:
        """True only when the 95% interval leaves 0 out."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


def wilson(*, count: int, total: int) -> tuple[float, float]:
    """Wilson's 95% score interval for the proportion count / total (total > 0)."""
    p = count / total
    z2 = Z_95 * Z_95
    centre = 2 * count + z2
    spread = Z_95 * math.sqrt(z2 + 4 * count * (1 - p))
    return (centre - spread) / (2 * (total + z2)), (centre + spread) / (2 * (total + z2))


def newcombe(*, count_a: int, total_a: int, count_b: int, total_b: int) -> tuple[float, float]:
    """Newcombe's hybrid score 95% interval for p_B - p_A (both totals > 0)."""
    p_a, p_b = count_a / total_a, count_b / total_b
    low_a, high_a = wilson(count=count_a, total=total_a)
    low_b, high_b = wilson(count=count_b, total=total_b)
    difference = p_b - p_a
    return (
        difference - math.sqrt((p_b - low_b) ** 2 + (high_a - p_a) ** 2),
        difference + math.sqrt((high_b - p_b) ** 2 + (p_a - low_a) ** 2),
    )


def families_needed(*, rate_a: float, rate_b: float) -> int | None:
    """Families per arm to tell this difference from chance (95%, 80% power); None if none."""
    difference = rate_b - rate_a
    if difference == 0:
        return None
    variance = rate_a * (1 - rate_a) + rate_b * (1 - rate_b)
    return math.ceil((Z_95 + Z_80_POWER) ** 2 * variance / difference**2)


def _points(value: float) -> str:
    return f"{value * 100:+.1f}".replace("-", "\u2212")


def compare(*, a: ArmCounts, b: ArmCounts, outcome: str) -> Comparison:
    """One outcome of B against A, with the sentence staff read (never a "winner")."""
    label = OUTCOMES[outcome]
    rate_a, rate_b = a.rate(outcome), b.rate(outcome)
    if rate_a is None or rate_b is None:
        waiting = " and ".join(arm.arm for arm in (a, b) if not arm.sent)
        sentence = f"{label}: not clear yet: no family has been sent wording {waiting} yet."
        return Comparison(outcome, rate_a, rate_b, None, None, None, sentence)
    low, high = newcombe(
        count_a=getattr(a, outcome), total_a=a.sent, count_b=getattr(b, outcome), total_b=b.sent
    )
    difference = rate_b - rate_a
    figures = (
        f"{label}: B {rate_b:.1%}, A {rate_a:.1%}, a difference of {_points(difference)} points"
        f" (95% interval {_points(low)} to {_points(high)})."
    )
    if low > 0 or high < 0:
        direction = "higher" if difference > 0 else "lower"
        sentence = f"{figures} Clear: B's rate is {direction} than A's."
    else:
        needed = families_needed(rate_a=rate_a, rate_b=rate_b)
        size = (
            "no difference so far, so no size can be told yet"
            if needed is None
            else f"to tell a difference this size, about {needed:,} families per wording"
            f" are needed ({min(a.sent, b.sent):,} so far)"
        )
        sentence = f"{figures} Not clear yet: {size}."
    return Comparison(outcome, rate_a, rate_b, difference, low, high, sentence)


def compare_all(*, a: ArmCounts, b: ArmCounts) -> list[Comparison]:
    """Every outcome of B against A, in the order staff read them."""
    return [compare(a=a, b=b, outcome=outcome) for outcome in OUTCOMES]
