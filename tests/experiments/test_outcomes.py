"""Outcomes per wording: the 95% interval of B - A matches a hand computation and a published
one, and the sentence staff read says "clear" only when the interval leaves 0 out."""

from __future__ import annotations

import pytest

from sms_service.experiments.outcomes import ArmCounts, compare, compare_all, newcombe, wilson


def test_the_interval_of_120_in_1000_against_150_in_1000_matches_the_hand_computation() -> None:
    # By hand, z = 1.959964, z^2 = 3.841459; Wilson's bounds are
    # (2x + z^2 -/+ z * sqrt(z^2 + 4x(1 - p))) / (2(n + z^2)), with 2(n + z^2) = 2007.682918.
    # A, 120/1000: (243.841459 -/+ 1.959964 * sqrt(3.841459 + 422.4)) / 2007.682918
    #            = (243.841459 -/+ 40.464664) / 2007.682918 = 0.101299 to 0.141609
    # B, 150/1000: (303.841459 -/+ 1.959964 * sqrt(3.841459 + 510.0)) / 2007.682918
    #            = (303.841459 -/+ 44.428603) / 2007.682918 = 0.129210 to 0.173469
    # Newcombe, B - A = 0.03:
    #   low  = 0.03 - sqrt((0.15 - 0.129210)^2 + (0.141609 - 0.12)^2)
    #        = 0.03 - sqrt(0.000432 + 0.000467) = 0.03 - 0.029986 = 0.000014
    #   high = 0.03 + sqrt((0.173469 - 0.15)^2 + (0.12 - 0.101299)^2)
    #        = 0.03 + sqrt(0.000551 + 0.000350) = 0.03 + 0.030008 = 0.060008
    assert [round(v, 4) for v in wilson(count=120, total=1000)] == [0.1013, 0.1416]
    assert [round(v, 4) for v in wilson(count=150, total=1000)] == [0.1292, 0.1735]
    low, high = newcombe(count_a=120, total_a=1000, count_b=150, total_b=1000)
    assert round(low, 6) == 0.000014  # just above 0: clear, by a hair
    assert round(high, 4) == 0.0600


def test_the_interval_matches_newcombes_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873-890, Table II example (a), method 10:
    # 56/70 - 48/80 = 0.2000, 95% interval 0.0524 to 0.3339.
    low, high = newcombe(count_a=48, total_a=80, count_b=56, total_b=70)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def test_a_clear_difference_says_so_and_never_names_a_winner() -> None:
    a = ArmCounts("A", sent=1000, delivered=980, replied_48h=120, opted_out_7d=5)
    b = ArmCounts("B", sent=1000, delivered=985, replied_48h=160, opted_out_7d=4)
    replied = compare(a=a, b=b, outcome="replied_48h")
    assert replied.clear  # Wald would say 0.04 -/+ 1.96 * 0.01549 = +0.96 to +7.04 points
    assert replied.sentence == (
        "Replied within 48 hours: B 16.0%, A 12.0%, a difference of +4.0 points"
        " (95% interval +1.0 to +7.0). Clear: B's rate is higher than A's."
    )
    assert all("winner" not in c.sentence.lower() for c in compare_all(a=a, b=b))


def test_an_unclear_difference_says_not_clear_yet_and_the_size_needed() -> None:
    a = ArmCounts("A", sent=200, delivered=196, replied_48h=24, opted_out_7d=1)
    b = ArmCounts("B", sent=200, delivered=197, replied_48h=30, opted_out_7d=1)
    replied, opted_out = (compare(a=a, b=b, outcome=o) for o in ("replied_48h", "opted_out_7d"))
    assert not replied.clear
    # (1.959964 + 0.841621)^2 * (0.12 * 0.88 + 0.15 * 0.85) / 0.03^2 = 7.848880 * 0.2331 / 0.0009
    # = 2032.9 -> 2,033 families per wording for 80% power at 95%.
    assert replied.sentence == (
        "Replied within 48 hours: B 15.0%, A 12.0%, a difference of +3.0 points"
        " (95% interval \u22123.8 to +9.8). Not clear yet: to tell a difference this size,"
        " about 2,033 families per wording are needed (200 so far)."
    )
    assert not opted_out.clear
    assert opted_out.sentence.endswith(
        "Not clear yet: no difference so far, so no size can be told yet."
    )


@pytest.mark.parametrize(("sent_a", "sent_b", "missing"), [(0, 10, "A"), (0, 0, "A and B")])
def test_an_arm_nobody_was_sent_is_not_clear_yet(sent_a: int, sent_b: int, missing: str) -> None:
    a = ArmCounts("A", sent=sent_a, delivered=0, replied_48h=0, opted_out_7d=0)
    b = ArmCounts("B", sent=sent_b, delivered=sent_b, replied_48h=1, opted_out_7d=0)
    result = compare(a=a, b=b, outcome="replied_48h")
    assert not result.clear and result.difference is None
    assert result.sentence == (
        f"Replied within 48 hours: not clear yet: no family has been sent wording {missing} yet."
    )
