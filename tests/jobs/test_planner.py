"""The weekly planner on SQLite and PostgreSQL, driven with explicit clocks (never sleeping)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, String, func, literal, select, update
from sqlalchemy.orm import Session, sessionmaker

from content.library import load_library
from content.render import render_tip
from content.segments import analyze
from jobs.planner import plan
from jobs.planning.candidates import candidate_rows
from jobs.planning.render_sql import body_and_segments, capitalised
from jobs.planning.scratch import candidate_table, reset_scratch_tables
from jobs.planning.slots import due_slots
from sms_service.core.db import transaction
from sms_service.core.models import Caregiver, Child, OutboundMessage, Tip
from sms_service.core.settings import Settings
from sms_service.tips.sync import sync_library
from tests.jobs.factories import add_caregiver, make_tip

NEW_YORK = ZoneInfo("America/New_York")
MIAMI = ZoneInfo("America/New_York")  # Florida's east coast shares New York's zone
FIVE_MINUTES = timedelta(minutes=5)


def ticks(start: datetime, end: datetime, step: timedelta = FIVE_MINUTES) -> Iterator[datetime]:
    """Every planner run between start and end (UTC), like the scheduler's interval trigger."""
    moment = start.astimezone(UTC)
    while moment < end.astimezone(UTC):
        yield moment
        moment += step


def drive(engine: Engine, settings: Settings, start: datetime, end: datetime) -> int:
    return sum(plan(engine, now=now, settings=settings).planned for now in ticks(start, end))


def outbox(sessions: sessionmaker[Session]) -> list[OutboundMessage]:
    with transaction(sessions) as session:
        return list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


# --- due slots (pure) ---------------------------------------------------------------------


def test_a_monday_1800_slot_is_due_from_1800_until_the_window_closes() -> None:
    settings = Settings()

    def due(moment: datetime) -> set[tuple[int, int]]:
        return {
            (s.weekday, s.hour)
            for s in due_slots(
                now=moment, timezone="America/New_York", region="NY", settings=settings
            )
        }

    assert (0, 18) not in due(local(2026, 3, 2, 17, 55))
    assert (0, 18) in due(local(2026, 3, 2, 18, 0))
    assert (0, 18) in due(local(2026, 3, 2, 20, 55))
    assert due(local(2026, 3, 2, 21, 0)) == set()
    assert (0, 18) not in due(local(2026, 3, 3, 18, 0))  # a day late is next week's business
    # After the autumn change (2026-11-01) Monday 18:00 is 23:00 UTC instead of 22:00.
    [autumn] = [
        s
        for s in due_slots(
            now=local(2026, 11, 2, 18), timezone="America/New_York", region="NY", settings=settings
        )
        if (s.weekday, s.hour) == (0, 18)
    ]
    assert autumn.due_at == datetime(2026, 11, 2, 23, 0, tzinfo=UTC)
    assert autumn.week_label == "2026-W45"
    # Sunday 22:00 is moved out of quiet hours to Monday 08:00.
    assert (6, 22) in due(local(2026, 3, 2, 8, 0))
    assert (6, 22) not in due(local(2026, 3, 1, 22, 0))


# --- the headline scenario ----------------------------------------------------------------


def test_tuesday_enrollee_gets_one_tip_each_monday_at_1800_local_across_dst(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    with transaction(sessions) as session:
        caregiver = add_caregiver(
            session,
            phone="+12125550100",
            children=[("Mia", date(2025, 12, 1)), (None, date(2025, 3, 10))],
        )
        caregiver_id = caregiver.id
        mia, sibling = (child.id for child in caregiver.children)
    # Enrolled Tuesday 2026-02-24; US clocks spring forward on Sunday 2026-03-08.
    drive(engine, settings, local(2026, 2, 24, 10), local(2026, 3, 17, 12))

    rows = outbox(sessions)
    mondays = [local(2026, 3, 2, 18), local(2026, 3, 9, 18), local(2026, 3, 16, 18)]
    # One text a week (settings.messages_per_week): the two children take turns.
    assert [row.due_at for row in rows] == [m.astimezone(UTC) for m in mondays]
    for row in rows:
        local_due = row.due_at.astimezone(NEW_YORK)
        assert (local_due.weekday(), local_due.hour, local_due.minute) == (0, 18, 0)
        assert row.created_at == row.due_at  # planned by the run at 18:00, not later
        assert row.kind == "tip"
        assert row.state == "pending"
        assert row.caregiver_id == caregiver_id
        assert row.body.startswith("Little Moments: ")
        assert row.segments == analyze(row.body).segments
    assert [row.child_id for row in rows] == [mia, sibling, mia]
    assert len({row.tip_id for row in rows}) == 3  # never the same tip twice
    assert {row.dedupe_key.rsplit(":", 1)[1] for row in rows} == {
        "2026-W10",
        "2026-W11",
        "2026-W12",
    }


def test_the_age_picks_the_tip_and_the_next_unseen_one_follows(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    # Mia is 13 weeks old on 2026-03-02, 14 on 2026-03-09.
    with transaction(sessions) as session:
        add_caregiver(session, phone="+12125550101", children=[("Mia", date(2025, 12, 1))])
    plan(engine, now=local(2026, 3, 2, 18), settings=settings)
    plan(engine, now=local(2026, 3, 9, 18), settings=settings)
    plan(engine, now=local(2026, 3, 16, 18), settings=settings)
    # Week 13: valid are w+013-a (13-14), w+012-a (12-13), w+013-b (13-13); the earliest deadline
    # first, ties by min_week then id: w+012-a. Week 14: w+013-a. Week 15: w+014-a.
    assert [row.tip_id for row in outbox(sessions)] == ["en-w+012-a", "en-w+013-a", "en-w+014-a"]


def test_running_the_planner_twice_plans_once(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    with transaction(sessions) as session:
        add_caregiver(
            session,
            phone="+12125550102",
            children=[("Ava", date(2025, 6, 1)), ("Leo", date(2024, 1, 5))],
        )
    now = local(2026, 3, 2, 18, 5)
    first = plan(engine, now=now, settings=settings)
    second = plan(engine, now=now, settings=settings)
    later = plan(engine, now=now + timedelta(hours=1), settings=settings)
    # Two siblings, one text a week: a later run must not hand the second child the slot.
    assert (first.planned, second.planned, later.planned) == (1, 0, 0)
    assert len(outbox(sessions)) == 1


# --- quiet hours --------------------------------------------------------------------------


def test_quiet_hours_hold_in_florida_and_elsewhere(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    born = date(2025, 9, 1)
    with transaction(sessions) as session:
        fl_late = add_caregiver(
            session, phone="+13055550103", region="FL", hour=21, children=[("A", born)]
        ).id
        fl_evening = add_caregiver(
            session, phone="+13055550104", region="FL", hour=19, children=[("B", born)]
        ).id
        ny_late = add_caregiver(
            session, phone="+12125550105", region="NY", hour=21, children=[("C", born)]
        ).id
        ny_night = add_caregiver(
            session, phone="+12125550106", region="NY", hour=3, children=[("D", born)]
        ).id
    drive(engine, settings, local(2026, 3, 2, 0), local(2026, 3, 4, 0))

    due = {row.caregiver_id: row.due_at.astimezone(MIAMI) for row in outbox(sessions)}
    assert due == {
        fl_late: local(2026, 3, 3, 8),  # Monday 21:00 is after Florida's 20:00: Tuesday 08:00
        fl_evening: local(2026, 3, 2, 19),
        ny_late: local(2026, 3, 3, 8),  # after the default 21:00 end
        ny_night: local(2026, 3, 2, 8),  # Monday 03:00 waits for Monday 08:00
    }
    for row in outbox(sessions):
        assert row.created_at >= row.due_at
        planned_local = row.created_at.astimezone(MIAMI).time()
        assert planned_local.hour >= 8
        assert planned_local.hour < (20 if row.caregiver_id in (fl_late, fl_evening) else 21)


def test_a_slot_missed_earlier_today_is_planned_late_but_a_missed_day_waits(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    with transaction(sessions) as session:
        add_caregiver(
            session, phone="+13055550107", region="FL", hour=9, children=[("A", date(2025, 9, 1))]
        )
    # The planner was down all Monday morning in Florida and comes back at 19:55 then 20:05.
    assert plan(engine, now=local(2026, 3, 2, 19, 55), settings=settings).planned == 1
    assert outbox(sessions)[0].due_at == local(2026, 3, 2, 9).astimezone(UTC)

    with transaction(sessions) as session:
        add_caregiver(
            session, phone="+13055550108", region="FL", hour=9, children=[("B", date(2025, 9, 1))]
        )
    assert plan(engine, now=local(2026, 3, 2, 20, 5), settings=settings).planned == 0
    assert plan(engine, now=local(2026, 3, 3, 9, 0), settings=settings).planned == 0
    assert plan(engine, now=local(2026, 3, 9, 9, 0), settings=settings).planned == 2


# --- who is skipped -----------------------------------------------------------------------


def test_opted_out_paused_and_enrolling_caregivers_are_skipped_until_a_pause_ends(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    born = date(2025, 9, 1)
    monday = local(2026, 3, 2, 18)
    with transaction(sessions) as session:
        opted_out = add_caregiver(
            session, phone="+12125550110", status="opted_out", children=[("A", born)]
        ).id
        paused = add_caregiver(
            session,
            phone="+12125550111",
            status="paused",
            paused_until=monday + timedelta(days=10),
            children=[("B", born)],
        ).id
        pause_ended = add_caregiver(
            session,
            phone="+12125550112",
            status="paused",
            paused_until=monday - timedelta(minutes=1),
            children=[("C", born)],
        ).id
        add_caregiver(session, phone="+12125550113", status="enrolling", children=[("D", born)])
        active = add_caregiver(
            session, phone="+12125550114", children=[("E", born), ("F", born)]
        ).id
        session.execute(
            update(Child).where(Child.name == "F").values(status="removed")
        )  # a removed child gets nothing
    report = plan(engine, now=monday, settings=settings)
    assert report.resumed == 1
    assert sorted(row.caregiver_id for row in outbox(sessions)) == sorted([pause_ended, active])
    with transaction(sessions) as session:
        statuses = {
            id_: status for id_, status in session.execute(select(Caregiver.id, Caregiver.status))
        }
    assert statuses[pause_ended] == "active"
    assert statuses[paused] == "paused"
    assert statuses[opted_out] == "opted_out"


# --- the calendar -------------------------------------------------------------------------


def test_an_expecting_parent_gets_prenatal_tips_then_baby_tips_after_the_birth(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    with transaction(sessions) as session:
        caregiver = add_caregiver(
            session,
            phone="+12125550120",
            expected=True,
            children=[(None, date(2026, 3, 20))],  # due in 18 days: week -3
        )
        child_id = caregiver.children[0].id
    plan(engine, now=local(2026, 3, 2, 18), settings=settings)
    plan(engine, now=local(2026, 3, 9, 18), settings=settings)
    with transaction(sessions) as session:  # the baby arrives early, on 2026-03-12
        session.execute(
            update(Child)
            .where(Child.id == child_id)
            .values(birth_date=date(2026, 3, 12), is_expected=False)
        )
    plan(engine, now=local(2026, 3, 16, 18), settings=settings)
    rows = outbox(sessions)
    assert [row.tip_id for row in rows] == ["en-w-004-a", "en-w-003-a", "en-w+000-b"]
    assert "tip A: Your baby loves your voice" in rows[0].body
    assert "bump" in rows[1].body and "baby tip" in rows[2].body


def test_a_child_past_week_155_gets_no_more_tips(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    with transaction(sessions) as session:
        add_caregiver(
            session,
            phone="+12125550121",
            children=[("Old", date(2023, 3, 6)), ("Young", date(2023, 3, 7))],
        )
    plan(engine, now=local(2026, 3, 2, 18), settings=settings)  # 156 and 155 weeks old today
    assert [row.tip_id for row in outbox(sessions)] == ["en-w+154-a"]


def test_changing_time_zone_or_day_mid_week_never_gives_a_second_tip_that_week(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    with transaction(sessions) as session:
        caregiver_id = add_caregiver(
            session, phone="+12125550122", children=[("Mia", date(2025, 9, 1))]
        ).id
    plan(engine, now=local(2026, 3, 2, 18), settings=settings)  # Monday's tip
    with transaction(sessions) as session:
        session.execute(
            update(Caregiver)
            .where(Caregiver.id == caregiver_id)
            .values(timezone="America/Los_Angeles", region="CA", send_weekday=2, send_hour=9)
        )
    drive(engine, settings, local(2026, 3, 2, 19), local(2026, 3, 5, 0))  # this week's Wednesday
    assert len(outbox(sessions)) == 1
    plan(engine, now=local(2026, 3, 11, 12), settings=settings)  # 09:00 in Los Angeles
    due = [row.due_at.astimezone(ZoneInfo("America/Los_Angeles")) for row in outbox(sessions)]
    assert len(due) == 2
    assert (due[1].weekday(), due[1].hour, due[1].day) == (2, 9, 11)  # next week's Wednesday


def test_batches_neither_drop_nor_duplicate_anyone(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    with transaction(sessions) as session:
        for number in range(23):
            add_caregiver(
                session,
                phone=f"+1212555{number:04d}",
                children=[("A", date(2025, 9, 1))] * (1 + number % 3),
                language="es" if number % 4 == 0 else "en",
            )
        # Gaps in the id sequence straddle batch boundaries.
        session.execute(Caregiver.__table__.delete().where(Caregiver.id.in_([4, 5, 9])))
        children = session.scalar(select(Child.id).where(Child.caregiver_id == 6).limit(1))
        assert children is not None
    report = plan(engine, now=local(2026, 3, 2, 18), settings=settings, batch_size=4)
    rows = outbox(sessions)
    with transaction(sessions) as session:
        # One text a week per household: each caregiver's first child has the first turn.
        expected = set(session.scalars(select(func.min(Child.id)).group_by(Child.caregiver_id)))
    assert report.batches == 6
    assert report.planned == len(rows) == len(expected) == 20
    assert {row.child_id for row in rows} == expected


# --- rendering ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "language", "born"),
    [
        (None, "en", date(2025, 12, 1)),  # "your baby"
        (None, "en", date(2024, 12, 1)),  # "your toddler"
        (None, "es", date(2025, 12, 1)),  # "tu bebé"
        (None, "es", date(2024, 12, 1)),  # "tu niño o niña"
        ("", "en", date(2025, 12, 1)),
        ("mia", "en", date(2025, 12, 1)),  # {Child} capitalises, {child} does not
        ("José", "es", date(2025, 12, 1)),  # é is GSM-7: rendered in SQL
        ("Ana-Lucía", "es", date(2025, 12, 1)),  # í is not: kept, the text becomes UCS-2
        ("Zoë  Grace", "en", date(2025, 12, 1)),  # ë kept, spaces collapsed
        ("Maximilian Alexander", "en", date(2025, 12, 1)),  # 20 characters
        ("Łukasz", "en", date(2025, 12, 1)),
        ("O'Brien", "en", date(2025, 12, 1)),
    ],
)
def test_planned_bodies_and_segments_match_content_render(
    engine: Engine,
    sessions: sessionmaker[Session],
    settings: Settings,
    tips: None,
    name: str | None,
    language: str,
    born: date,
) -> None:
    with transaction(sessions) as session:
        add_caregiver(session, phone="+12125550130", language=language, children=[(name, born)])
    now = local(2026, 3, 2, 18)
    plan(engine, now=now, settings=settings)
    [row] = outbox(sessions)
    with transaction(sessions) as session:
        tip = session.get(Tip, row.tip_id)
        assert tip is not None
    age = (now.date() - born).days // 7
    expected = render_tip(
        tip.text, language=language, child_name=name, age_weeks=age, program_name="Little Moments"
    )
    assert row.body == expected
    assert row.segments == analyze(expected).segments
    assert row.tip_version == tip.version
    assert row.to_number == "+12125550130"


def test_segments_are_counted_for_tips_sql_cannot_measure(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    long_text = "Sing to {child} [softly] " + "and smile " * 14
    with transaction(sessions) as session:
        session.add_all(
            [
                make_tip("en-w010-ext", "en", (10, 10), long_text),
                make_tip("es-w010-emoji", "es", (10, 10), "Abraza a {child} \U0001f49b " * 6),
            ]
        )
        add_caregiver(session, phone="+12125550140", children=[("Mia", date(2025, 12, 22))])
        add_caregiver(
            session, phone="+12125550141", language="es", children=[("Leo", date(2025, 12, 22))]
        )
    plan(engine, now=local(2026, 3, 2, 18), settings=settings)
    rows = outbox(sessions)
    assert len(rows) == 2
    for row in rows:
        assert row.segments == analyze(row.body).segments > 1


@pytest.mark.parametrize("name", [None, "", "mia", "José", "Maximilian Alexander", "O'Brien"])
def test_sql_rendering_equals_render_tip_for_every_shipped_tip(
    engine: Engine, sessions: sessionmaker[Session], name: str | None
) -> None:
    with transaction(sessions) as session:
        sync_library(session, load_library())
    program = "Program Name Of 24 Chars"
    cand = candidate_table
    with engine.connect() as connection, connection.begin():
        tips = connection.execute(select(Tip.__table__)).all()
        assert len(tips) > 100
        reset_scratch_tables(connection)
        connection.execute(cand.insert(), candidate_rows(tips, program_name=program))
        name_sql = literal(name, String)
        body, segments = body_and_segments(
            cand.c, name=name_sql, name_cap=capitalised(name_sql), program_name=program
        )
        rows = connection.execute(
            select(cand.c.tip_id, cand.c.language, cand.c.week, cand.c.text, body, segments)
        ).all()
    assert {row.tip_id for row in rows} == {tip.id for tip in tips}
    for tip_id, language, week, text, sql_body, sql_segments in rows:
        expected = render_tip(
            text, language=language, child_name=name, age_weeks=week, program_name=program
        )
        assert sql_body == expected, tip_id
        assert sql_segments in (0, analyze(expected).segments), tip_id


def test_names_reach_the_tip_as_the_parent_wrote_them(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    text = "{Child} loves your voice. Sing to {child} today, and smile."
    with transaction(sessions) as session:
        session.add_all(
            [
                make_tip("en-w010-voice", "en", (10, 10), text),
                make_tip("es-w010-voz", "es", (10, 10), text),
            ]
        )
        add_caregiver(session, phone="+12125550150", children=[("Sofía", date(2025, 12, 22))])
        add_caregiver(
            session, phone="+12125550151", language="es", children=[("xóchitl", date(2025, 12, 22))]
        )
    plan(engine, now=local(2026, 3, 2, 18), settings=settings)
    bodies = {row.to_number: row for row in outbox(sessions)}
    sofia, xochitl = bodies["+12125550150"], bodies["+12125550151"]
    assert "Sofía loves your voice. Sing to Sofía today" in sofia.body
    assert "Xóchitl loves your voice. Sing to xóchitl today" in xochitl.body
    for row in (sofia, xochitl):
        assert row.segments == analyze(row.body).segments == 2  # UCS-2: the name costs a segment
