"""The question a family is answering: found, answered, re-asked once, or closed by time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    SQLColumnExpression,
    Table,
    and_,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from sms_service.core.models import (
    Child,
    OutboundMessage,
    SurveyAnswer,
    SurveyQuestion,
    SurveyRun,
)

# The states of a question's outbox text in which it has reached (or is reaching) the family.
_ASKED_STATES = ("sent", "delivered")


@dataclass(frozen=True)
class OpenQuestion:
    """A question out to a family whose answer window has not passed."""

    run: SurveyRun
    question: SurveyQuestion
    asked_at: datetime

    def wording(self, language: str) -> dict[str, Any]:
        """The question's texts in `language` (the survey's first language when it has none)."""
        texts = self.question.texts
        found = texts.get(language) or next(iter(texts.values()))
        return dict(found)


def open_question(
    *, session: Session, caregiver_id: int, now: datetime, window: timedelta
) -> OpenQuestion | None:
    """The family's open question, if its text has gone out and the window is still open.

    A run whose window has passed is closed here, so the text that finds it closed goes to the
    inbox. The run row is locked: the caller already holds the caregiver's lock, this keeps a
    planner's close from crossing an answer being written.
    """
    first_sent = _first_sent(OutboundMessage.__table__, run_id=SurveyRun.id)
    row = session.execute(
        select(SurveyRun, func.coalesce(SurveyRun.asked_at, first_sent))
        .where(SurveyRun.caregiver_id == caregiver_id, SurveyRun.state == "open")
        .order_by(SurveyRun.id.desc())
        .limit(1)
        .with_for_update(of=SurveyRun)
    ).first()
    if row is None:
        return None
    run, asked_at = row
    if asked_at is None or run.question_id is None:
        return None  # the question is still in the outbox: this text is not its answer
    if now - asked_at > window:
        _end(run, state="closed", now=now)
        return None
    question = session.get(SurveyQuestion, run.question_id)
    if question is None:
        return None
    return OpenQuestion(run=run, question=question, asked_at=asked_at)


def record_answer(
    *, session: Session, open: OpenQuestion, value: int, inbound_id: int | None, now: datetime
) -> SurveyQuestion | None:
    """Store `value` as the answer and move the run to its next question (returned; None when
    that was the last, and the run is done). The caller sends the next question at once."""
    run = open.run
    session.add(
        SurveyAnswer(
            run_id=run.id,
            question_id=open.question.id,
            inbound_id=inbound_id,
            value=value,
            answered_at=now,
        )
    )
    following = session.scalar(
        select(SurveyQuestion)
        .where(
            SurveyQuestion.survey_id == open.question.survey_id,
            SurveyQuestion.position > open.question.position,
        )
        .order_by(SurveyQuestion.position)
        .limit(1)
    )
    if following is None:
        _end(run, state="done", now=now)
        return None
    run.question_id, run.asked_at, run.reasked = following.id, now, False
    return following


def reask(*, open: OpenQuestion, now: datetime) -> bool:
    """Mark the question asked again (its window starts over); False when it already was, so
    the text is not an answer and the question closes: a family is asked again once, kindly."""
    run = open.run
    if run.reasked:
        _end(run, state="closed", now=now)
        return False
    run.reasked, run.asked_at = True, now
    return True


def close_expired(connection: Connection, *, now: datetime, window: timedelta) -> int:
    """Close, in one statement, every open run whose question went out more than `window`
    ago, or whose question text never went (cancelled by a STOP or a pause) and was planned
    that long ago; returns how many. The planner runs it, so a closed run makes room for the
    next survey and results count it as unanswered."""
    sent = OutboundMessage.__table__.alias("asking")
    run = SurveyRun.__table__
    assert isinstance(run, Table)
    first_sent = _first_sent(sent, run_id=run.c.id)
    on_its_way = exists().where(
        sent.c.survey_run_id == run.c.id, sent.c.state.in_(("pending", "sending"))
    )
    cutoff = now - window
    result = connection.execute(
        update(run)
        .where(
            run.c.state == "open",
            or_(
                func.coalesce(run.c.asked_at, first_sent) < cutoff,
                and_(
                    run.c.asked_at.is_(None),
                    first_sent.is_(None),
                    ~on_its_way,
                    run.c.created_at < cutoff,
                ),
            ),
        )
        .values(state="closed", ended_at=now)
    )
    return int(result.rowcount or 0)


def child_for(*, session: Session, run: SurveyRun) -> Child | None:
    """The child a question names: the run's, else the family's youngest active child."""
    if run.child_id is not None:
        child = session.get(Child, run.child_id)
        if child is not None:
            return child
    return session.scalar(
        select(Child)
        .where(Child.caregiver_id == run.caregiver_id, Child.status == "active")
        .order_by(Child.birth_date.desc())
        .limit(1)
    )


def age_weeks(*, child: Child | None, today: date) -> int:
    """The child's age in weeks on `today` (0 before birth): picks "your baby" or "toddler"."""
    if child is None:
        return 0
    return max(0, (today - child.birth_date).days // 7)


def _first_sent(sent: FromClause, *, run_id: SQLColumnExpression[Any]) -> ColumnElement[Any]:
    """SQL: when the run's question text first reached the family (None while it waits)."""
    first: ColumnElement[Any] = (
        select(func.min(sent.c.sent_at))
        .where(
            sent.c.survey_run_id == run_id,
            sent.c.kind == "survey",
            sent.c.state.in_(_ASKED_STATES),
        )
        .scalar_subquery()
    )
    return first


def _end(run: SurveyRun, *, state: str, now: datetime) -> None:
    run.state, run.ended_at = state, now
