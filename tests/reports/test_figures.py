"""A range's figures and per-tip results, on rows whose rates are worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from sms_service.core.scope import NETWORK
from sms_service.reports.figures import range_report
from sms_service.reports.period import Period
from sms_service.reports.tips import tip_results
from tests.helpers.people import add_caregiver
from tests.helpers.reports import add_opt_out, add_parent_text, add_text, add_tip

ZONE = ZoneInfo("America/New_York")
# Four weeks, Monday 2 to Sunday 29 November 2026.
PERIOD = Period(date(2026, 11, 2), date(2026, 11, 29), ZONE)


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def seed(sessions: sessionmaker[Session]) -> None:
    """Four families; comments give what each row adds to the figures."""
    with transaction(sessions) as s:
        add_tip(s, "en-t1", "Sing a song while you change a diaper.")
        add_tip(s, "en-t2")
        a, b, c, d = (add_caregiver(s) for _ in range(4))
        # Week 1: two tips delivered; A answers within 48 h, B only after 3 days.
        add_text(s, a, at=at(3, 15), tip_id="en-t1")
        add_parent_text(s, a, at=at(3, 18), body="We loved it")
        add_parent_text(s, a, at=at(3, 19), body="2", handled_as="answer")  # never a reply
        add_text(s, b, at=at(3, 15), tip_id="en-t1")
        add_parent_text(s, b, at=at(6, 18), body="late thanks")  # other parent text
        # Week 2: C's tip undelivered; D answers a campaign twice, then stops.
        add_text(s, c, at=at(10, 15), tip_id="en-t2", state="undelivered", code="30003")
        add_text(s, d, at=at(10, 15), kind="campaign")
        add_parent_text(s, d, at=at(10, 16), body="Is there a group for dads?")
        add_parent_text(s, d, at=at(10, 17), body="near me")
        add_opt_out(s, d, at=at(10, 18))
        # Week 3: B's tip refused (21610, never sent); A writes after a program message, two
        # weeks after their last tip: not a reply to it.
        add_text(s, b, at=at(17, 15), tip_id="en-t2", state="failed", code="21610")
        add_text(s, a, at=at(17, 15), kind="system")
        add_parent_text(s, a, at=at(17, 16), body="ok")  # other
        # C gets a staff answer, then writes back: a conversation, not a reply to C's tip.
        add_text(s, c, at=at(11, 15), kind="staff")
        add_parent_text(s, c, at=at(11, 16), body="thank you")  # other
        # Week 4: A's tip awaits its report; the automatic reply between does not count.
        add_text(s, a, at=at(24, 15), tip_id="en-t1", state="sent")
        add_text(s, a, at=at(24, 15, 11).replace(minute=30), kind="reply")
        add_parent_text(s, a, at=at(24, 16), body="he laughed")
        # Outside the range: not counted.
        add_text(s, a, at=at(20, 15, 10), tip_id="en-t1")
        add_parent_text(s, a, at=at(20, 16, 10), body="before")


def test_range_figures_and_rates(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    with sessions() as s:
        report = range_report(s, period=PERIOD, scope=NETWORK)
    assert (report.planned, report.sent, report.delivered) == (8, 7, 5)
    assert (report.undelivered, report.awaiting, report.failed) == (1, 1, 1)
    assert report.delivered + report.undelivered + report.awaiting == report.sent
    assert report.delivery_rate == pytest.approx(5 / 7)  # delivered / final (5 + 1 + 1)
    assert report.opt_outs == 1
    assert report.opt_out_rate == pytest.approx(100 / 7)  # per 100 texts sent
    # Tip and campaign texts sent: A, B, C (week 1-2), D's campaign, A's week-4 tip = 5;
    # answered: A week 1, D, A week 4 = 3. Enrollment answers and late texts do not count.
    assert (report.answerable, report.answered) == (5, 3)
    assert report.reply_rate == pytest.approx(0.6)
    assert (report.replies, report.other_parent_texts, report.families_replied) == (4, 3, 2)
    assert report.families_reached == 4
    assert report.funnel == [("planned", 8), ("sent", 7), ("delivered", 5), ("failed", 2)]
    assert [(f.code, f.texts, f.families) for f in report.failures] == [
        ("21610", 1, 1),
        ("30003", 1, 1),
    ]
    assert report.failures[1].words.startswith("30003: unreachable")
    weekly = [
        (w.start.day, w.sent, w.delivered, w.answerable, w.answered, w.replies, w.opt_outs)
        for w in report.weekly
    ]
    assert weekly == [
        (2, 2, 2, 2, 1, 1, 0),
        (9, 3, 2, 2, 1, 2, 1),
        (16, 1, 1, 0, 0, 0, 0),
        (23, 1, 0, 1, 1, 1, 0),
    ]
    assert report.weekly[0].reply_rate == 0.5 and report.weekly[2].reply_rate is None
    data = report.to_json()
    assert data["rates"]["reply"] == pytest.approx(0.6)
    assert data["range"] == {"from": "2026-11-02", "to": "2026-11-29", "preset": "custom"}


def test_a_shorter_range_counts_only_its_days(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    with sessions() as s:
        report = range_report(
            s, period=Period(date(2026, 11, 9), date(2026, 11, 15), ZONE), scope=NETWORK
        )
    assert (report.sent, report.delivered, report.answerable, report.answered) == (3, 2, 2, 1)
    assert report.opt_out_rate == pytest.approx(100 / 3)
    assert [w.start for w in report.weekly] == [date(2026, 11, 9)]


def test_an_empty_range_has_no_rates(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        report = range_report(s, period=PERIOD, scope=NETWORK)
    assert (report.delivery_rate, report.opt_out_rate, report.reply_rate) == (None, None, None)
    assert len(report.weekly) == 4 and report.failures == []


def test_per_tip_results(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    with sessions() as s:
        results = tip_results(s, period=PERIOD, scope=NETWORK)
    rows = [(r.tip_id, r.sent, r.answered, r.replies, r.opt_outs) for r in results]
    # en-t1: A week 1 (answered), B (late), A week 4 (answered); en-t2: only C's was sent.
    assert rows == [("en-t1", 3, 2, 2, 0), ("en-t2", 1, 0, 0, 0)]
    assert results[0].reply_rate == pytest.approx(2 / 3)
    assert results[0].text.startswith("Sing a song")
