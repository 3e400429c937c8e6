"""Survey questions planned with the tips: at the family's slot, to its audience and schedule,
within the household's weekly cap, once per occasion; sent by the dispatcher like any text."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from jobs.planner import plan
from sms_service.core.db import transaction
from sms_service.core.models import (
    Caregiver,
    CaregiverTag,
    OutboundMessage,
    Survey,
    SurveyRun,
)
from sms_service.core.settings import Settings
from sms_service.texting.inbound import IncomingText, handle_inbound
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.partners import add_partner
from tests.helpers.surveys import answers, started_default
from tests.jobs.factories import add_caregiver
from tests.jobs.outbox import dispatch

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 3, 2, 18, 0, tzinfo=NEW_YORK)  # ISO week 2026-W10
BABY = date(2025, 7, 1)  # 8 months old that Monday


def family(
    sessions: sessionmaker[Session],
    phone: str,
    *,
    born: date = BABY,
    language: str = "en",
    enrolled: datetime = MONDAY - timedelta(weeks=6),
    tag: str | None = None,
    name: str | None = "Maya",
) -> int:
    with transaction(sessions) as session:
        caregiver = add_caregiver(session, phone=phone, children=[(name, born)], language=language)
        caregiver.enrolled_at = enrolled
        if tag:
            session.add(CaregiverTag(caregiver_id=caregiver.id, tag=tag))
        return caregiver.id


def texts(sessions: sessionmaker[Session], caregiver_id: int) -> list[tuple[str, str, str]]:
    """(kind, cap week, body) of the family's outbox rows, in order."""
    with sessions() as session:
        rows = session.execute(
            select(OutboundMessage.kind, OutboundMessage.cap_week, OutboundMessage.body)
            .where(OutboundMessage.caregiver_id == caregiver_id)
            .order_by(OutboundMessage.id)
        )
        return [(kind, week or "", body) for kind, week, body in rows]


def audience(sessions: sessionmaker[Session], survey_id: int, **values: object) -> None:
    with transaction(sessions) as session:
        session.execute(update(Survey).where(Survey.id == survey_id).values(**values))


@pytest.mark.usefixtures("tips")
def test_a_due_survey_takes_the_weeks_one_text_and_is_planned_once(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    started_default(sessions)
    maya = family(sessions, "+12125550201")
    for later in (timedelta(0), timedelta(minutes=5), timedelta(hours=2)):
        plan(engine, now=MONDAY + later, settings=settings)
    plan(engine, now=MONDAY + timedelta(weeks=1), settings=settings)

    sent = texts(sessions, maya)
    assert [(kind, week) for kind, week, _ in sent] == [
        ("survey", "2026-W10"),
        ("tip", "2026-W11"),  # the survey week had no room for a tip: the cap is one text
    ]
    assert sent[0][2] == (
        "Little Moments: A quick question. On how many days this week did you and Maya share "
        "a song, story or game? Reply 0-7"
    )
    with sessions() as session:
        run = session.scalars(select(SurveyRun)).one()
        assert (run.state, run.occasion, run.child_id is not None) == (
            "open",
            "every:2026-W10",
            True,
        )


@pytest.mark.usefixtures("tips")
def test_with_room_for_two_texts_the_tip_comes_too(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    started_default(sessions)
    maya = family(sessions, "+12125550202")
    plan(engine, now=MONDAY, settings=replace(settings, messages_per_week=2))
    assert sorted(kind for kind, _, _ in texts(sessions, maya)) == ["survey", "tip"]


@pytest.mark.usefixtures("tips")
def test_the_audience_is_matched_in_sql(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    survey = started_default(sessions)
    audience(sessions, survey, language="es", tag="clinic")
    asked = family(sessions, "+12125550203", language="es", tag="clinic", name=None)
    families = [
        family(sessions, "+12125550204", language="en", tag="clinic"),  # another language
        family(sessions, "+12125550205", language="es"),  # no tag
        family(sessions, "+12125550206", language="es", tag="clinic", born=date(2026, 2, 1)),
        family(sessions, "+12125550207", language="es", tag="clinic", enrolled=MONDAY),
    ]
    plan(engine, now=MONDAY, settings=settings)

    assert texts(sessions, asked)[0][0] == "survey"
    assert "compartiste con tu bebé una canción" in texts(sessions, asked)[0][2]
    # Too young (1 month; the survey is for 2 months on) or enrolled moments ago: a tip.
    assert [texts(sessions, other)[0][0] for other in families] == ["tip"] * 4


@pytest.mark.usefixtures("tips")
def test_a_survey_for_one_partner_asks_only_its_families(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    survey = started_default(sessions)
    with transaction(sessions) as session:
        eastside = add_partner(session, settings, "eastside").id
    audience(sessions, survey, partner_id=eastside)
    asked = family(sessions, "+12125550210")
    with transaction(sessions) as session:
        session.execute(update(Caregiver).where(Caregiver.id == asked).values(partner_id=eastside))
    elsewhere = family(sessions, "+12125550211")  # the program's own family
    plan(engine, now=MONDAY, settings=settings)

    assert texts(sessions, asked)[0][0] == "survey"
    assert texts(sessions, elsewhere)[0][0] == "tip"


@pytest.mark.usefixtures("tips")
def test_a_survey_at_six_months_is_asked_once_in_the_weeks_after(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    survey = started_default(sessions)
    audience(sessions, survey, schedule="at_age", every_weeks=None, at_age_months=[6, 12])
    six_months = family(sessions, "+12125550208", born=date(2025, 8, 25))  # 6 months, 1 week
    five_months = family(sessions, "+12125550209", born=date(2025, 10, 1))
    plan(engine, now=MONDAY, settings=settings)
    plan(engine, now=MONDAY + timedelta(weeks=1), settings=settings)
    with transaction(sessions) as session:  # the family did not answer: the window closes
        session.execute(update(SurveyRun).values(state="closed"))
    plan(engine, now=MONDAY + timedelta(weeks=2), settings=settings)

    assert [kind for kind, _, _ in texts(sessions, six_months)] == ["survey", "tip", "tip"]
    assert [kind for kind, _, _ in texts(sessions, five_months)] == ["tip", "tip", "tip"]
    with sessions() as session:
        occasions = session.scalars(select(SurveyRun.occasion)).all()
        assert [occasion.split(":")[:2] for occasion in occasions] == [["age", "6"]]


@pytest.mark.usefixtures("tips")
def test_every_twelve_weeks_the_survey_comes_again_after_the_window_closed_it(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    started_default(sessions)
    maya = family(sessions, "+12125550210")
    plan(engine, now=MONDAY, settings=settings)
    with transaction(sessions) as session:  # the dispatcher sends it; nobody answers
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.kind == "survey")
            .values(state="delivered", sent_at=MONDAY + timedelta(minutes=1))
        )
    for week in range(1, 14):
        plan(engine, now=MONDAY + timedelta(weeks=week), settings=settings)
    kinds = [kind for kind, _, _ in texts(sessions, maya)]
    # Closed by the window after 48 hours; asked again in week 12, not before.
    assert [week for week, kind in enumerate(kinds) if kind == "survey"] == [0, 12]
    with sessions() as session:
        states = session.scalars(select(SurveyRun.state).order_by(SurveyRun.id)).all()
        assert states == ["closed", "open"]


@pytest.mark.usefixtures("tips")
def test_the_dispatcher_sends_the_question_and_the_familys_next_text_answers_it(
    engine: Engine,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake_twilio: FakeTwilio,
) -> None:
    started_default(sessions)
    family(sessions, "+12125550211")
    plan(engine, now=MONDAY, settings=settings)
    dispatch(sessions, settings, fake_twilio, now=MONDAY + timedelta(minutes=1))
    bodies = [message["body"] for message in fake_twilio.sent_to("+12125550211")]
    assert len(bodies) == 1
    assert bodies[0].startswith("Little Moments: A quick question.")
    with transaction(sessions) as session:
        incoming = IncomingText(message_sid="SMsurvey1", from_number="+12125550211", body="4")
        handled = handle_inbound(
            incoming, session=session, settings=settings, now=MONDAY + timedelta(hours=3)
        )
    assert handled.handled_as == "survey_answer"
    with sessions() as session:
        run = session.scalars(select(SurveyRun)).one()
    assert answers(sessions, run.id) == [("shared_days", 4)]


@pytest.mark.usefixtures("tips")
def test_a_stop_cancels_a_planned_question(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    started_default(sessions)
    maya = family(sessions, "+12125550212")
    plan(engine, now=MONDAY, settings=settings)
    with transaction(sessions) as session:
        incoming = IncomingText(message_sid="SMstop1", from_number="+12125550212", body="STOP")
        handle_inbound(incoming, session=session, settings=settings, now=MONDAY)
    with sessions() as session:
        state = session.scalar(
            select(OutboundMessage.state).where(
                OutboundMessage.caregiver_id == maya, OutboundMessage.kind == "survey"
            )
        )
    assert state == "cancelled"


@pytest.mark.usefixtures("tips")
def test_a_week_already_full_gets_no_survey_and_the_survey_waits_for_next_week(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    started_default(sessions)
    maya = family(sessions, "+12125550213")
    with transaction(sessions) as session:
        session.add(
            OutboundMessage(
                dedupe_key="campaign:1:test",
                kind="campaign",
                caregiver_id=maya,
                to_number="+12125550213",
                body="Little Moments: Story time at the library on Saturday!",
                due_at=MONDAY,
                cap_week="2026-W10",
            )
        )
    plan(engine, now=MONDAY, settings=settings)
    plan(engine, now=MONDAY + timedelta(weeks=1), settings=settings)
    assert [(kind, week) for kind, week, _ in texts(sessions, maya)] == [
        ("campaign", "2026-W10"),
        ("survey", "2026-W11"),
    ]
