"""Surveys for tests: the shipped survey, started, with a question out to a family."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from sms_service.core.models import (
    Caregiver,
    OutboundMessage,
    SurveyAnswer,
    SurveyQuestion,
    SurveyRun,
    utcnow,
)
from sms_service.surveys.definitions import install_default, start_survey
from tests.helpers.people import add_caregiver
from tests.helpers.texting import Phone, Poster


def started_default(sessions: sessionmaker[Session]) -> int:
    """The shipped survey, active; its id."""
    with transaction(sessions) as session:
        survey = install_default(session=session, now=utcnow())
        start_survey(session=session, survey_id=survey.id, now=utcnow())
        return survey.id


def ask(
    sessions: sessionmaker[Session],
    number: str,
    *,
    sent_ago: timedelta = timedelta(hours=1),
    state: str = "sent",
    position: int = 1,
    occasion: str = "once",
) -> int:
    """A run of the default survey for `number` whose question `position` went out
    `sent_ago` (an outbox text in `state`, as the planner and dispatcher leave it); its id."""
    survey_id = started_default(sessions)
    now = utcnow()
    sent_at = now - sent_ago
    with transaction(sessions) as session:
        caregiver = session.scalars(select(Caregiver).where(Caregiver.phone == number)).one()
        question = session.scalars(
            select(SurveyQuestion).where(
                SurveyQuestion.survey_id == survey_id, SurveyQuestion.position == position
            )
        ).one()
        run = SurveyRun(
            survey_id=survey_id,
            caregiver_id=caregiver.id,
            child_id=caregiver.children[0].id if caregiver.children else None,
            occasion=occasion,
            question_id=question.id,
            # A later question is asked in a reply, which sets asked_at itself.
            asked_at=sent_at if position > 1 else None,
            created_at=sent_at,
        )
        session.add(run)
        session.flush()
        session.add(
            OutboundMessage(
                dedupe_key=f"survey:{run.id}:test",
                kind="survey",
                caregiver_id=caregiver.id,
                survey_run_id=run.id,
                to_number=number,
                body=question.texts[caregiver.language]["ask"],
                state=state,
                due_at=sent_at,
                sent_at=sent_at if state in ("sent", "delivered") else None,
                cap_week="2026-W49",
            )
        )
        return run.id


def answers(sessions: sessionmaker[Session], run_id: int) -> list[tuple[str, int]]:
    """(question key, value) of a run's answers, in question order."""
    with sessions() as session:
        rows = session.execute(
            select(SurveyQuestion.key, SurveyAnswer.value)
            .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
            .where(SurveyAnswer.run_id == run_id)
            .order_by(SurveyQuestion.position)
        )
        return [(key, value) for key, value in rows]


def run_state(sessions: sessionmaker[Session], run_id: int) -> tuple[str, datetime | None]:
    """(state, ended_at) of a run."""
    with sessions() as session:
        run = session.get(SurveyRun, run_id)
        assert run is not None
        return run.state, run.ended_at


def seed_answers(client: Poster, sessions: sessionmaker[Session]) -> int:
    """Five families and the default survey, answered by text (figures in test_results.py):
    two English babies answer (all three questions; the first only), a Spanish toddler
    answers all three, one English family is asked and never answers, and one's question is
    still in the outbox. Returns the survey id."""
    with transaction(sessions) as session:
        for number, language, days in (
            ("+12125550301", "en", 100),
            ("+12125550302", "en", 120),
            ("+12125550303", "es", 400),
            ("+12125550304", "en", 100),
            ("+12125550305", "en", 100),
        ):
            add_caregiver(
                session, phone=number, language=language, child_age_days=days, child_name="Ana"
            )
    for number, occasion in (
        ("+12125550301", "a"),
        ("+12125550302", "b"),
        ("+12125550303", "c"),
        ("+12125550304", "d"),
    ):
        ask(sessions, number, occasion=occasion)
    ask(sessions, "+12125550305", occasion="e", state="pending")
    for number, words in (
        ("+12125550301", ("3", "5", "yes")),
        ("+12125550302", ("3",)),
        ("+12125550303", ("7", "1", "no")),
    ):
        phone = Phone(client, number)
        for word in words:
            phone.text(word)
    return started_default(sessions)
