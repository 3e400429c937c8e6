"""Partners compared, and each report narrowed to one partner's families: two partners, the
program's own families and a partner with none, on rows whose figures are worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from sms_service.core.scope import NETWORK, Scope
from sms_service.core.settings import Settings
from sms_service.reports.figures import range_report
from sms_service.reports.partners import NO_PARTNER, TOTAL, compare_partners
from sms_service.reports.period import Period
from sms_service.reports.tips import tip_results
from sms_service.staff.reports import program_stats
from tests.helpers.partners import add_partner
from tests.helpers.people import add_caregiver
from tests.helpers.reports import (
    add_opt_out,
    add_parent_text,
    add_survey_answer,
    add_text,
    add_tip,
)

ZONE = ZoneInfo("America/New_York")
PERIOD = Period(date(2026, 11, 2), date(2026, 11, 29), ZONE)


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def seed(sessions: sessionmaker[Session], settings: Settings) -> dict[str, int]:
    """Eastside: two families, Westside one, the program one, Northside none. Comments give
    what each row adds to its partner's figures."""
    with transaction(sessions) as s:
        add_tip(s, "en-t1")
        add_tip(s, "en-t2")
        east, west = add_partner(s, settings, "eastside"), add_partner(s, settings, "westside")
        add_partner(s, settings, "northside")
        e1 = add_caregiver(s, partner_id=east.id, enrolled_at=at(5, 12))  # joined in range
        e2 = add_caregiver(s, partner_id=east.id, enrolled_at=at(1, 12, 10), status="opted_out")
        w1 = add_caregiver(s, partner_id=west.id, enrolled_at=at(10, 12))  # joined in range
        n1 = add_caregiver(s, enrolled_at=at(1, 12, 10))  # the program's own family
        # Eastside: 3 tips sent, 2 delivered; e1 answers; e2 stops after a tip; e1 answers a
        # survey question.
        add_text(s, e1, at=at(3, 15), tip_id="en-t1")
        add_parent_text(s, e1, at=at(3, 18), body="We loved it")
        add_text(s, e2, at=at(3, 15), tip_id="en-t1", state="undelivered", code="30003")
        add_text(s, e2, at=at(10, 15), tip_id="en-t2")
        add_opt_out(s, e2, at=at(10, 18))
        add_survey_answer(s, e1, at=at(6, 12))
        # Westside: a tip delivered, unanswered; a program text refused (final, never sent).
        add_text(s, w1, at=at(11, 15), tip_id="en-t1")
        add_text(s, w1, at=at(12, 15), kind="system", state="failed", code="21610")
        # The program's family answers a campaign text twice (one text answered).
        add_text(s, n1, at=at(4, 15), kind="campaign")
        add_parent_text(s, n1, at=at(4, 16), body="Is there a group for dads?")
        add_parent_text(s, n1, at=at(4, 17), body="near me")
        # Outside the range: counted nowhere.
        add_text(s, w1, at=at(20, 15, 10), tip_id="en-t1")
        add_parent_text(s, w1, at=at(20, 16, 10), body="before")
        add_survey_answer(s, w1, at=at(20, 16, 10))
        return {"east": east.id, "west": west.id}


def figures(row: object) -> tuple[object, ...]:
    names = (
        "enrolled", "active", "sent", "delivered", "final", "answerable", "answered", "replies",
        "opt_outs", "survey_answers",
    )  # fmt: skip
    return tuple(getattr(row, name) for name in names)


def test_each_partner_has_its_row_the_programs_own_families_theirs_and_the_totals(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    seed(sessions, settings)
    with sessions() as s:
        comparison = compare_partners(s, period=PERIOD)
    rows = {row.name: row for row in comparison.rows}
    assert [row.name for row in comparison.rows] == [
        "Eastside Family Center", "Northside Family Center", "Westside Family Center",
        NO_PARTNER, TOTAL,
    ]  # fmt: skip
    east, west = rows["Eastside Family Center"], rows["Westside Family Center"]
    #                       enr act sent dlv fin ans answd repl opt srv
    assert figures(east) == (1, 1, 3, 2, 3, 3, 1, 1, 1, 1)
    assert figures(west) == (1, 1, 1, 1, 2, 1, 0, 0, 0, 0)
    assert figures(rows[NO_PARTNER]) == (0, 1, 1, 1, 1, 1, 1, 2, 0, 0)
    assert figures(rows[TOTAL]) == (2, 3, 5, 4, 6, 5, 2, 3, 1, 1)
    assert east.opt_out_rate == pytest.approx(100 / 3)
    assert east.reply_rate == pytest.approx(1 / 3)
    assert east.delivery_rate == pytest.approx(2 / 3)
    assert (west.opt_out_rate, west.reply_rate, west.delivery_rate) == (0, 0, 0.5)
    north = rows["Northside Family Center"]
    assert figures(north) == (0,) * 10
    assert (north.opt_out_rate, north.reply_rate, north.delivery_rate) == (None, None, None)
    assert east.slug == "eastside" and rows[NO_PARTNER].slug is None


def test_a_partners_row_is_its_dashboard_and_the_totals_the_networks(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    ids = seed(sessions, settings)
    with sessions() as s:
        rows = {row.slug: row for row in compare_partners(s, period=PERIOD).rows}
        for slug, scope in (("eastside", Scope(ids["east"])), ("westside", Scope(ids["west"]))):
            report = range_report(s, period=PERIOD, scope=scope)
            row = rows[slug]
            assert (report.sent, report.delivered, report.replies) == (
                row.sent,
                row.delivered,
                row.replies,
            )
            assert (report.answered, report.opt_outs, report.survey_answers) == (
                row.answered,
                row.opt_outs,
                row.survey_answers,
            )
            assert report.delivery_rate == row.delivery_rate
        network = range_report(s, period=PERIOD, scope=NETWORK)
        assert (network.sent, network.answered, network.replies, network.survey_answers) == (
            5,
            2,
            3,
            1,
        )
        east = range_report(s, period=PERIOD, scope=Scope(ids["east"]))
        assert [f.code for f in east.failures] == ["30003"]  # Westside's 21610 is not theirs
        assert sum(week.sent for week in east.weekly) == 3
        assert sum(week.opt_outs for week in east.weekly) == 1


def test_per_tip_results_and_family_counts_narrow_to_a_partner(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    ids = seed(sessions, settings)
    with sessions() as s:
        west = tip_results(s, period=PERIOD, scope=Scope(ids["west"]))
        east = tip_results(s, period=PERIOD, scope=Scope(ids["east"]))
        everyone = tip_results(s, period=PERIOD, scope=NETWORK)
        stats = program_stats(s, now=at(29, 12), zone=ZONE, scope=Scope(ids["east"]))
    assert [(r.tip_id, r.sent, r.answered) for r in west] == [("en-t1", 1, 0)]
    assert {r.tip_id: (r.sent, r.answered, r.opt_outs) for r in east} == {
        "en-t1": (2, 1, 0),
        "en-t2": (1, 0, 1),
    }
    assert {r.tip_id: r.sent for r in everyone} == {"en-t1": 3, "en-t2": 1}
    assert (stats.families, stats.by_status["active"], stats.by_status["opted_out"]) == (2, 1, 1)
    assert stats.enrolled == 2
    # Both joined in the 12 weeks charted (October 1, November 5); Westside's is not theirs.
    assert sum(count for _, count in stats.enrollments_per_week) == 2
