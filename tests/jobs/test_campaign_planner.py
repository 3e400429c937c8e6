from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from jobs import runtime
from jobs.campaign_planner import plan_campaigns, plan_due_campaigns
from sms_service.campaigns.authoring import (
    cancel_campaign,
    get_campaign,
    pause_campaign,
    resume_campaign,
)
from sms_service.core.db import transaction
from sms_service.core.models import Campaign, OutboundMessage
from sms_service.core.settings import Settings
from tests.helpers.campaigns import EN, ES, TESTER, make_campaign
from tests.helpers.people import add_caregiver

NOW = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)  # 12:00 in New York, 09:00 in Los Angeles
TODAY = date(2026, 11, 26)
NOON_NY = datetime(2026, 11, 26, 12, 0)  # wall clock


def _rows(sessions: sessionmaker[Session]) -> list[OutboundMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def _status(sessions: sessionmaker[Session], campaign_id: int) -> str:
    with sessions() as session:
        return get_campaign(session, campaign_id).status


def test_plans_each_language_once_and_reaches_done(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as s:
        english = [add_caregiver(s, today=TODAY).id for _ in range(3)]
        spanish = [add_caregiver(s, language="es", today=TODAY).id for _ in range(2)]
        add_caregiver(s, status="opted_out", today=TODAY)
        add_caregiver(s, status="paused", today=TODAY)
        add_caregiver(s, status="undeliverable", today=TODAY)
        campaign = make_campaign(s, settings, times=[NOON_NY], now=NOW)
        message_id = campaign.messages[0].id
    assert plan_campaigns(sessions, settings=settings, now=NOW) == 5
    rows = _rows(sessions)
    assert sorted(row.caregiver_id for row in rows) == sorted(english + spanish)
    by_caregiver = {row.caregiver_id: row for row in rows}
    assert {by_caregiver[i].body for i in english} == {f"Little Moments: {EN}"}
    assert {by_caregiver[i].body for i in spanish} == {f"Little Moments: {ES}"}
    assert {row.dedupe_key for row in rows} == {
        f"campaign:{message_id}:{i}" for i in english + spanish
    }
    assert all(row.kind == "campaign" and row.campaign_id == campaign.id for row in rows)
    assert all(row.state == "pending" and row.due_at == NOW for row in rows)
    assert _status(sessions, campaign.id) == "sending"

    # Planning again (the job runs every few minutes) adds nothing: nobody gets it twice.
    assert plan_campaigns(sessions, settings=settings, now=NOW + timedelta(minutes=5)) == 0
    assert len(_rows(sessions)) == 5
    with transaction(sessions) as s:
        s.execute(update(OutboundMessage).values(state="delivered"))
    assert plan_campaigns(sessions, settings=settings, now=NOW + timedelta(minutes=10)) == 0
    assert _status(sessions, campaign.id) == "done"


def test_quiet_hours_hold_for_program_time_and_local_time(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    # Two campaigns in one week: families told "2 messages a week" get both on time.
    settings = replace(settings, messages_per_week=2)
    with transaction(sessions) as s:
        new_york = add_caregiver(s, today=TODAY).id
        los_angeles = add_caregiver(s, timezone="America/Los_Angeles", region="CA", today=TODAY).id
        florida = add_caregiver(s, region="FL", today=TODAY).id
        late = make_campaign(s, settings, times=[datetime(2026, 11, 26, 20, 30)], now=NOW)
        local = make_campaign(
            s, settings, times=[datetime(2026, 11, 27, 10, 0)], now=NOW, local_time=True
        )
    planned_at = datetime(2026, 11, 27, 1, 29, tzinfo=UTC)  # 20:29 in New York
    plan_campaigns(sessions, settings=settings, now=planned_at)
    due = {(row.campaign_id, row.caregiver_id): row.due_at for row in _rows(sessions)}
    # 20:30 in New York is inside the window; Florida's day ends at 20:00, so it waits for
    # 08:00; in Los Angeles it is 17:30.
    assert due[(late.id, new_york)] == datetime(2026, 11, 27, 1, 30, tzinfo=UTC)
    assert due[(late.id, florida)] == datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
    assert due[(late.id, los_angeles)] == datetime(2026, 11, 27, 1, 30, tzinfo=UTC)
    # "10:00 local for each caregiver": 15:00 UTC in New York, 18:00 UTC in Los Angeles.
    assert due[(local.id, new_york)] == datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    assert due[(local.id, los_angeles)] == datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def test_pause_holds_everything_unsent_and_resume_never_repeats(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as s:
        ids = [add_caregiver(s, today=TODAY).id for _ in range(4)]
        campaign = make_campaign(s, settings, times=[NOON_NY], now=NOW)
    plan_campaigns(sessions, settings=settings, now=NOW)
    with transaction(sessions) as s:  # the dispatcher got through two of them
        s.execute(
            update(OutboundMessage)
            .where(OutboundMessage.caregiver_id.in_(ids[:2]))
            .values(state="sent", sent_at=NOW)
        )
    with transaction(sessions) as s:
        assert pause_campaign(s, get_campaign(s, campaign.id), actor=TESTER) == 2
    assert {row.state for row in _rows(sessions) if row.caregiver_id in ids[2:]} == {"cancelled"}
    assert plan_campaigns(sessions, settings=settings, now=NOW + timedelta(minutes=5)) == 0
    assert {row.state for row in _rows(sessions)} == {"sent", "cancelled"}

    with transaction(sessions) as s:
        resume_campaign(s, get_campaign(s, campaign.id), actor=TESTER)
    later = NOW + timedelta(hours=1)
    assert plan_campaigns(sessions, settings=settings, now=later) == 2
    rows = _rows(sessions)
    assert sorted(row.caregiver_id for row in rows) == sorted(ids)  # one row each, ever
    resumed = [row for row in rows if row.caregiver_id in ids[2:]]
    assert all(row.state == "pending" and row.due_at == later for row in resumed)


def test_a_series_plans_each_message_when_it_is_due_and_cancel_stops_it(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as s:
        add_caregiver(s, today=TODAY)
        days = [NOON_NY + timedelta(days=day) for day in range(3)]
        campaign = make_campaign(s, settings, times=days, now=NOW)
        assert campaign.kind == "series"
    assert plan_campaigns(sessions, settings=settings, now=NOW) == 1
    assert plan_campaigns(sessions, settings=settings, now=NOW + timedelta(days=1)) == 1
    with transaction(sessions) as s:
        s.execute(update(OutboundMessage).values(state="delivered"))
    assert _status(sessions, campaign.id) == "sending"  # one message still to go
    with transaction(sessions) as s:
        cancel_campaign(s, get_campaign(s, campaign.id), actor=TESTER)
    assert plan_campaigns(sessions, settings=settings, now=NOW + timedelta(days=2)) == 0
    assert len(_rows(sessions)) == 2
    assert _status(sessions, campaign.id) == "cancelled"


def test_the_scheduler_job_plans_on_the_database_its_scheduler_bound(
    sessions: sessionmaker[Session], settings: Settings, engine: Engine
) -> None:
    with transaction(sessions) as s:
        add_caregiver(s)
        campaign = make_campaign(
            s,
            settings,
            times=[datetime.now().replace(microsecond=0)],
            now=datetime.now(UTC),
            schedule=False,
        )
        campaign.status = "scheduled"
        campaign.messages[0].send_at = datetime.now(UTC) - timedelta(minutes=1)
    key = runtime.bind(settings, engine)
    try:
        assert plan_due_campaigns(key) == 1
    finally:
        runtime.unbind(key, engine)
    with sessions() as s:
        assert s.scalars(select(Campaign.status)).one() == "sending"


def test_two_planners_at_once_still_send_each_text_once(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as s:
        for _ in range(40):
            add_caregiver(s, today=TODAY)
        make_campaign(s, settings, times=[NOON_NY], now=NOW)
    with ThreadPoolExecutor(2) as pool:
        counts = list(
            pool.map(lambda _: plan_campaigns(sessions, settings=settings, now=NOW), [0, 1])
        )
    assert sorted(counts) == [0, 40]
    assert len(_rows(sessions)) == 40
