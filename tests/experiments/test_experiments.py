"""Experiments end to end below the web: started and stopped by staff, planned in SQL (each
family in its arm's wording, stored on the row, within the weekly cap), results per arm."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from content.library import DEFAULT_ROOT, Library, load_themes
from content.render import render_tip
from content.segments import analyze
from jobs.planner import plan
from sms_service.core.audit import CLI_ACTOR
from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, Caregiver, Experiment, OutboundMessage, Tip
from sms_service.core.scope import Scope
from sms_service.core.settings import Settings
from sms_service.experiments.assignment import arm_for
from sms_service.experiments.outcomes import newcombe
from sms_service.experiments.records import (
    ExperimentRefused,
    start_experiment,
    stop_experiment,
)
from sms_service.experiments.results import experiment_results
from sms_service.tips.editing import TipRefused
from tests.helpers.partners import add_partner
from tests.helpers.reports import add_opt_out, add_parent_text
from tests.helpers.settings import make_settings
from tests.jobs.factories import add_caregiver, make_tip, tip_library

NEW_YORK = ZoneInfo("America/New_York")
# Weeks 12-13: ranked before the library's en-w+012-a, so the first tip of a baby born
# 2025-12-01 on 2026-03-02 (13 weeks old).
TIP = "en-song"
BORN = date(2025, 12, 1)
MONDAY = datetime(2026, 3, 2, 18, 0, tzinfo=NEW_YORK)
WORDING_B = "Week 12 baby tip, said another way: {Child} knows your voice. Sing to {child}."
_PHONES = itertools.count(3000)
THEMES = Library(root=DEFAULT_ROOT, themes=load_themes(DEFAULT_ROOT, []))


@pytest.fixture
def tips(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        session.add_all(tip_library())
        session.add(make_tip(TIP, "en", (12, 13), "Hum a song to {child} as you get dressed."))


def _start(sessions: sessionmaker[Session], **overrides: object) -> int:
    arguments: dict[str, object] = {
        "tip_id": TIP,
        "wording_b": WORDING_B,
        "share_b": 0.5,
        "stop_at": None,
        "target_size": 1000,
        "library": THEMES,
        "actor": CLI_ACTOR,
        "now": MONDAY - timedelta(days=1),
    }
    arguments.update(overrides)
    with transaction(sessions) as session:
        return start_experiment(session, **arguments).id


def _families(sessions: sessionmaker[Session], count: int, *, twins: bool = False) -> list[int]:
    with transaction(sessions) as session:
        return [
            add_caregiver(
                session,
                phone=f"+1212555{next(_PHONES):04d}",
                children=[("Mia", BORN), ("Leo", BORN)] if twins else [("Mia", BORN)],
            ).id
            for _ in range(count)
        ]


def _rows(sessions: sessionmaker[Session]) -> list[OutboundMessage]:
    with transaction(sessions) as session:
        return list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def _rendered(text: str) -> str:
    return render_tip(
        text, language="en", child_name="Mia", age_weeks=13, program_name="Little Moments"
    )


def test_each_family_gets_its_arms_wording_stored_on_the_row(
    sessions: sessionmaker[Session], engine: Engine, settings: Settings, tips: None
) -> None:
    experiment_id = _start(sessions)
    families = _families(sessions, 40)
    plan(engine, now=MONDAY, settings=settings)
    rows = _rows(sessions)
    assert {row.caregiver_id for row in rows} == set(families)
    with transaction(sessions) as session:
        tip_text = session.get_one(Tip, TIP).text
    arms = set()
    for row in rows:
        assert row.tip_id == TIP
        assert row.experiment_id == experiment_id
        expected = arm_for(
            experiment_id=experiment_id, caregiver_id=row.caregiver_id, share_b=0.5, language="en"
        )
        assert row.arm == expected
        assert row.body == _rendered(WORDING_B if expected == "B" else tip_text)
        assert row.segments == analyze(row.body).segments
        arms.add(row.arm)
    assert arms == {"A", "B"}


def test_twins_get_one_wording_and_the_weekly_cap_holds(
    engine: Engine, sessions: sessionmaker[Session], database_url: str, tips: None
) -> None:
    experiment_id = _start(sessions)
    families = _families(sessions, 20, twins=True)
    # One text a week: the experiment changes what a text says, never how many go out.
    plan(engine, now=MONDAY, settings=make_settings(database_url=database_url))
    rows = _rows(sessions)
    assert sorted(row.caregiver_id for row in rows) == sorted(families)
    # Two a week: both twins get the tip, always in the family's one wording.
    roomy = make_settings(database_url=database_url, messages_per_week=2)
    plan(engine, now=MONDAY + timedelta(days=7), settings=roomy)
    by_family: dict[int, set[str | None]] = {}
    per_week: dict[tuple[int, str | None], int] = {}
    for row in _rows(sessions):
        if row.tip_id == TIP:
            by_family.setdefault(row.caregiver_id, set()).add(row.arm)
            assert row.experiment_id == experiment_id
        key = (row.caregiver_id, row.cap_week)
        per_week[key] = per_week.get(key, 0) + 1
    assert all(len(arms) == 1 for arms in by_family.values())
    assert max(per_week.values()) <= 2
    assert {n for (_, week), n in per_week.items() if week == "2026-W10"} == {1}


def test_after_the_stop_date_everyone_gets_the_tips_own_wording(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    _start(sessions, stop_at=MONDAY - timedelta(hours=1), now=MONDAY - timedelta(days=2))
    _families(sessions, 10)
    plan(engine, now=MONDAY, settings=settings)
    with transaction(sessions) as session:
        tip_text = session.get_one(Tip, TIP).text
    for row in _rows(sessions):
        assert (row.experiment_id, row.arm) == (None, None)
        assert row.body == _rendered(tip_text)


def test_the_target_size_ends_assignment_at_the_next_run(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    _start(sessions, target_size=5)
    _families(sessions, 5)
    plan(engine, now=MONDAY, settings=settings)
    later = _families(sessions, 3)
    with transaction(sessions) as session:
        session.execute(update(Caregiver).where(Caregiver.id.in_(later)).values(send_weekday=1))
    plan(engine, now=MONDAY + timedelta(days=1), settings=settings)
    arms = {row.caregiver_id: row.arm for row in _rows(sessions)}
    assert sum(1 for arm in arms.values() if arm) == 5
    assert all(arms[c] is None for c in later)


def test_wording_b_must_pass_the_checker_and_one_experiment_runs_per_tip(
    sessions: sessionmaker[Session], tips: None
) -> None:
    with pytest.raises(TipRefused):
        _start(sessions, wording_b="x" * 400)  # far beyond the segment budget
    with pytest.raises(ExperimentRefused):
        _start(sessions, share_b=1.0)
    with pytest.raises(ExperimentRefused):
        _start(sessions, target_size=None)
    _start(sessions)
    with pytest.raises(ExperimentRefused):
        _start(sessions)
    with transaction(sessions) as session:
        actions = session.scalars(select(AuditLog.action)).all()
    assert actions == ["sms_service.experiments.start"]


def test_keeping_b_makes_it_the_tips_next_version(
    sessions: sessionmaker[Session], tips: None
) -> None:
    experiment_id = _start(sessions)
    with transaction(sessions) as session:
        stop_experiment(
            session, experiment_id=experiment_id, keep="B", library=THEMES, actor=CLI_ACTOR
        )
    with transaction(sessions) as session:
        tip = session.get_one(Tip, TIP)
        experiment = session.get_one(Experiment, experiment_id)
        assert (tip.text, tip.version) == (WORDING_B, 2)
        assert (experiment.status, experiment.kept_arm) == ("stopped", "B")
        with pytest.raises(ExperimentRefused):
            stop_experiment(
                session, experiment_id=experiment_id, keep="A", library=THEMES, actor=CLI_ACTOR
            )


def test_results_count_each_arms_families_and_match_newcombe(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    experiment_id = _start(sessions)
    _families(sessions, 40)
    plan(engine, now=MONDAY, settings=settings)
    sent_at = MONDAY.astimezone(UTC)
    with transaction(sessions) as session:
        rows = list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))
        expected = {"A": [0, 0, 0, 0], "B": [0, 0, 0, 0]}  # sent, delivered, replied, opted
        for n, row in enumerate(rows):
            row.state, row.sent_at = ("delivered" if n % 4 else "sent"), sent_at
            counts = expected[str(row.arm)]
            counts[0] += 1
            counts[1] += 1 if n % 4 else 0
            family = session.get_one(Caregiver, row.caregiver_id)
            if n % 3 == 0:  # within 48 hours: a reply to the tip
                add_parent_text(session, family, at=sent_at + timedelta(hours=5), body="Thanks")
                counts[2] += 1
            elif n % 5 == 0:  # three days later: not within 48 hours
                add_parent_text(session, family, at=sent_at + timedelta(days=3), body="Hi")
            if n % 7 == 0:
                add_opt_out(session, family, at=sent_at + timedelta(days=6))
                counts[3] += 1
            elif n % 11 == 0:
                add_opt_out(session, family, at=sent_at + timedelta(days=8))  # too late
    with transaction(sessions) as session:
        results = experiment_results(session, session.get_one(Experiment, experiment_id))
        for arm in (results.a, results.b):
            assert [arm.sent, arm.delivered, arm.replied_48h, arm.opted_out_7d] == expected[arm.arm]
        replied = results.comparisons[1]
        low, high = newcombe(
            count_a=expected["A"][2],
            total_a=expected["A"][0],
            count_b=expected["B"][2],
            total_b=expected["B"][0],
        )
        assert (replied.low, replied.high) == (pytest.approx(low), pytest.approx(high))


def test_a_partners_staff_see_their_own_families_counts(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    experiment_id = _start(sessions)
    with transaction(sessions) as session:
        partner_id = add_partner(session, settings, "eastside").id
    network = _families(sessions, 10)
    with transaction(sessions) as session:
        theirs = [
            add_caregiver(
                session, phone=f"+1212555{next(_PHONES):04d}", children=[("Mia", BORN)],
                partner_id=partner_id,
            ).id
            for _ in range(6)
        ]  # fmt: skip
    plan(engine, now=MONDAY, settings=settings)
    with transaction(sessions) as session:
        session.execute(
            update(OutboundMessage).values(state="delivered", sent_at=MONDAY.astimezone(UTC))
        )
    with transaction(sessions) as session:
        experiment = session.get_one(Experiment, experiment_id)
        everyone = experiment_results(session, experiment)
        eastside = experiment_results(session, experiment, scope=Scope(partner_id))
    assert everyone.a.sent + everyone.b.sent == len(network) + len(theirs)
    assert eastside.a.sent + eastside.b.sent == len(theirs)
    assert eastside.a.delivered + eastside.b.delivered == len(theirs)
