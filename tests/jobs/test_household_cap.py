"""The household cap: a phone gets at most messages_per_week tips and campaign texts a week."""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from jobs.aging import age_out
from jobs.campaign_planner import plan_campaigns
from jobs.planner import plan
from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, OutboundMessage
from sms_service.core.settings import Settings
from sms_service.core.weekly_cap import count_alone
from sms_service.texting.messages import texts
from tests.helpers.campaigns import make_campaign
from tests.helpers.locks import wait_until_blocked
from tests.helpers.texting import Phone
from tests.jobs.factories import add_caregiver

NEW_YORK = ZoneInfo("America/New_York")
FIRST_MONDAY = datetime(2026, 3, 2, 18, 0, tzinfo=NEW_YORK)  # ISO week 2026-W10
TODDLER, BABY, NEWBORN = date(2024, 1, 5), date(2025, 6, 1), date(2025, 12, 1)


def mondays(count: int) -> list[datetime]:
    """Monday 18:00 in New York, week after week (18:00 local across the DST change)."""
    return [FIRST_MONDAY + timedelta(weeks=week) for week in range(count)]


def plan_mondays(engine: Engine, settings: Settings, count: int) -> None:
    """Each Monday's runs at 18:00, 18:05 and 20:00: the later runs must add nothing."""
    for monday in mondays(count):
        for later in (timedelta(0), timedelta(minutes=5), timedelta(hours=2)):
            plan(engine, now=monday + later, settings=settings)


def texts_of(sessions: sessionmaker[Session], caregiver_id: int) -> list[OutboundMessage]:
    """The caregiver's tips and campaign texts, in the order they go out."""
    with sessions() as session:
        return list(
            session.scalars(
                select(OutboundMessage)
                .where(
                    OutboundMessage.caregiver_id == caregiver_id,
                    OutboundMessage.kind.in_(("tip", "campaign")),
                )
                .order_by(OutboundMessage.due_at, OutboundMessage.id)
            )
        )


def per_week(rows: list[OutboundMessage]) -> Counter[str]:
    """How many texts the phone receives in each local ISO week."""
    weeks: Counter[str] = Counter()
    for row in rows:
        year, week, _ = row.due_at.astimezone(NEW_YORK).isocalendar()
        weeks[f"{year}-W{week:02d}"] += 1
    return weeks


def labels(count: int, first: int = 10) -> list[str]:
    return [f"2026-W{week:02d}" for week in range(first, first + count)]


# --- siblings share the week ---------------------------------------------------------------


def test_three_children_under_3_share_one_tip_a_week_taking_turns(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    with transaction(sessions) as session:
        family = add_caregiver(
            session,
            phone="+12125550200",
            children=[("Ana", TODDLER), ("Ben", BABY), ("Cy", NEWBORN)],
        )
        family_id = family.id
        ana, ben, cy = (child.id for child in family.children)
    plan_mondays(engine, settings, 6)
    rows = texts_of(sessions, family_id)
    assert settings.messages_per_week == 1
    assert per_week(rows) == dict.fromkeys(labels(6), 1)
    assert [row.child_id for row in rows] == [ana, ben, cy, ana, ben, cy]
    assert len({row.tip_id for row in rows}) == 6
    assert {row.cap_week for row in rows} == set(labels(6))


def test_with_two_a_week_a_family_gets_two_and_every_child_its_share(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    settings = replace(settings, messages_per_week=2)
    with transaction(sessions) as session:
        family_id = add_caregiver(
            session,
            phone="+12125550201",
            children=[("Ana", TODDLER), ("Ben", BABY), ("Cy", NEWBORN)],
        ).id
        only_child = add_caregiver(session, phone="+12125550202", children=[("Di", BABY)]).id
    plan_mondays(engine, settings, 6)
    rows = texts_of(sessions, family_id)
    assert per_week(rows) == dict.fromkeys(labels(6), 2)
    assert sorted(Counter(row.child_id for row in rows).values()) == [4, 4, 4]
    # The cap is a ceiling: a single child still gets one tip a week, not two.
    assert per_week(texts_of(sessions, only_child)) == dict.fromkeys(labels(6), 1)


def test_a_child_without_a_tip_this_week_does_not_take_the_slot(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    with transaction(sessions) as session:
        # Old turns 156 weeks on the first Monday (past the last tip); the id order puts it first.
        family = add_caregiver(
            session, phone="+12125550203", children=[("Old", date(2023, 3, 6)), ("Ben", BABY)]
        )
        family_id, ben = family.id, family.children[1].id
    plan_mondays(engine, settings, 2)
    assert [row.child_id for row in texts_of(sessions, family_id)] == [ben, ben]


# --- campaigns and tips together ----------------------------------------------------------


def test_a_campaign_in_a_full_week_waits_a_week_and_then_that_weeks_tip_waits(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    with transaction(sessions) as session:
        monday = add_caregiver(session, phone="+12125550210", children=[("Ana", BABY)]).id
        friday = add_caregiver(
            session, phone="+12125550211", weekday=4, children=[("Ben", BABY)]
        ).id
        make_campaign(
            session,
            settings,
            times=[datetime(2026, 3, 4, 12, 0)],
            now=FIRST_MONDAY - timedelta(days=1),
        )
    wednesday = datetime(2026, 3, 4, 12, 0, tzinfo=NEW_YORK)
    for week in range(3):
        plan(engine, now=FIRST_MONDAY + timedelta(weeks=week), settings=settings)
        if week == 0:
            plan_campaigns(sessions, settings=settings, now=wednesday)
        plan(engine, now=FIRST_MONDAY + timedelta(weeks=week, days=4), settings=settings)

    # Monday's family had its tip when the campaign came: the campaign goes out a week later,
    # same local time, and holds that week, so Monday's tip of week 11 waits.
    monday_rows = texts_of(sessions, monday)
    assert [row.kind for row in monday_rows] == ["tip", "campaign", "tip"]
    assert monday_rows[1].due_at == (wednesday + timedelta(weeks=1)).astimezone(UTC)
    assert per_week(monday_rows) == dict.fromkeys(labels(3), 1)
    # Friday's family had room on Wednesday: the campaign is on time and Friday's tip waits.
    friday_rows = texts_of(sessions, friday)
    assert [row.kind for row in friday_rows] == ["campaign", "tip", "tip"]
    assert friday_rows[0].due_at == wednesday.astimezone(UTC)
    assert per_week(friday_rows) == dict.fromkeys(labels(3), 1)


def test_a_series_in_one_full_week_goes_out_one_week_at_a_time(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    days = [datetime(2026, 3, day, 12, 0) for day in (3, 4, 5)]  # Tuesday to Thursday
    with transaction(sessions) as session:
        family = add_caregiver(session, phone="+12125550214", children=[("Ana", BABY)]).id
        make_campaign(session, settings, times=days, now=FIRST_MONDAY - timedelta(days=1))
    for week in range(4):
        plan(engine, now=FIRST_MONDAY + timedelta(weeks=week), settings=settings)
        if week == 0:
            for day in days:
                plan_campaigns(sessions, settings=settings, now=day.replace(tzinfo=NEW_YORK))
    rows = texts_of(sessions, family)
    assert [row.kind for row in rows] == ["tip", "campaign", "campaign", "campaign"]
    assert [row.due_at.astimezone(NEW_YORK).replace(tzinfo=None) for row in rows[1:]] == [
        day + timedelta(weeks=week) for week, day in enumerate(days, start=1)
    ]
    assert per_week(rows) == dict.fromkeys(labels(4), 1)


def test_a_campaign_marked_as_an_exception_goes_out_on_time_beyond_the_cap(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    with transaction(sessions) as session:
        family = add_caregiver(session, phone="+12125550212", children=[("Ana", BABY)]).id
        campaign_id = make_campaign(
            session,
            settings,
            times=[datetime(2026, 3, 4, 12, 0)],
            now=FIRST_MONDAY - timedelta(days=1),
            exceeds_weekly_cap=True,
        ).id
    plan(engine, now=FIRST_MONDAY, settings=settings)
    wednesday = datetime(2026, 3, 4, 12, 0, tzinfo=NEW_YORK)
    plan_campaigns(sessions, settings=settings, now=wednesday)
    plan(engine, now=FIRST_MONDAY + timedelta(weeks=1), settings=settings)

    rows = texts_of(sessions, family)
    assert [(row.kind, row.due_at) for row in rows] == [
        ("tip", FIRST_MONDAY.astimezone(UTC)),
        ("campaign", wednesday.astimezone(UTC)),
        ("tip", (FIRST_MONDAY + timedelta(weeks=1)).astimezone(UTC)),  # not held up by it
    ]
    assert rows[1].cap_week is None
    with sessions() as session:
        audited = session.scalars(
            select(AuditLog.detail).where(
                AuditLog.action == "campaign.weekly_cap_exception",
                AuditLog.target_id == str(campaign_id),
            )
        ).all()
    assert audited == [{"exceeds_weekly_cap": True}]


def test_cancelled_texts_leave_the_week_free(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    with transaction(sessions) as session:
        family = add_caregiver(
            session, phone="+12125550213", children=[("Ana", BABY), ("Ben", NEWBORN)]
        ).id
    plan(engine, now=FIRST_MONDAY, settings=settings)
    with transaction(sessions) as session:  # a PAUSE and RESUME within the hour
        session.execute(update(OutboundMessage).values(state="cancelled"))
    plan(engine, now=FIRST_MONDAY + timedelta(hours=1), settings=settings)
    rows = texts_of(sessions, family)
    assert [row.state for row in rows] == ["cancelled", "pending"]
    assert rows[0].child_id != rows[1].child_id


# --- what does not count ------------------------------------------------------------------


def test_replies_help_stop_and_the_goodbye_do_not_use_up_the_week(
    engine: Engine,
    sessions: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
    tips: None,
) -> None:
    number = "+12125550220"
    with transaction(sessions) as session:
        family = add_caregiver(
            session, phone=number, children=[("Old", date(2023, 3, 2)), ("Ben", BABY)]
        ).id
    phone = Phone(client, number)
    for body in ("HELP", "Thank you so much!", "STOP", "START"):
        phone.text(body)
    age_out(engine, now=FIRST_MONDAY - timedelta(hours=4), settings=settings)  # Old's goodbye
    with transaction(sessions) as session:
        # The webhook runs on the real clock; move its answers into the planned week.
        session.execute(update(OutboundMessage).values(due_at=FIRST_MONDAY - timedelta(hours=3)))
    with sessions() as session:
        kinds = Counter(session.scalars(select(OutboundMessage.kind)))
    assert kinds == {"reply": 4, "system": 1}

    plan(engine, now=FIRST_MONDAY, settings=settings)
    assert [row.kind for row in texts_of(sessions, family)] == ["tip"]


# --- the promise in the consent text ------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "promise"),
    [("en", r"about (\d+) messages? a week"), ("es", r"cerca de (\d+) mensajes? por semana")],
)
@pytest.mark.parametrize("per_week_setting", [1, 2])
def test_families_get_what_the_consent_text_promised(
    engine: Engine,
    sessions: sessionmaker[Session],
    settings: Settings,
    tips: None,
    language: str,
    promise: str,
    per_week_setting: int,
) -> None:
    settings = replace(settings, messages_per_week=per_week_setting)
    consent = texts(language, settings).render("enrolled", when="every Monday")
    found = re.search(promise, consent)
    assert found is not None, consent
    promised = int(found.group(1))
    with transaction(sessions) as session:
        families = [
            add_caregiver(
                session,
                phone=f"+121255503{size:02d}",
                language=language,
                children=[(None, born) for born in (TODDLER, BABY, NEWBORN)[:size]],
            ).id
            for size in (2, 3)
        ]
        make_campaign(
            session,
            settings,
            times=[datetime(2026, 3, 4, 12, 0)],
            now=FIRST_MONDAY - timedelta(days=1),
        )
    for week, monday in enumerate(mondays(4)):
        plan(engine, now=monday, settings=settings)
        if week == 0:
            plan_campaigns(
                sessions, settings=settings, now=datetime(2026, 3, 4, 12, tzinfo=NEW_YORK)
            )
    for family in families:
        weeks = per_week(texts_of(sessions, family))
        assert set(weeks) == set(labels(4)), family
        assert max(weeks.values()) == promised, family


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_tip_planner_waits_while_the_campaign_planner_counts(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    """Both planners count a week before filling it: on PostgreSQL one waits for the other's
    commit, so side by side they cannot both see the same free week."""
    with transaction(sessions) as session:
        family_id = add_caregiver(session, phone="+12125550290", children=[("Ana", BABY)]).id
    worker = threading.Thread(
        target=plan, args=(engine,), kwargs={"now": FIRST_MONDAY, "settings": settings}
    )
    with engine.connect() as holder, holder.begin():
        count_alone(holder)  # what a campaign planner holds while it counts and writes
        worker.start()
        wait_until_blocked(engine, worker, wait_event="advisory")
        assert texts_of(sessions, family_id) == []  # still waiting
    worker.join(10)
    assert len(texts_of(sessions, family_id)) == 1
