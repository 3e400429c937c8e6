"""Rows for report tests: texts out, parents' texts and opt-outs at chosen times."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_service.core.models import (
    Caregiver,
    ConsentEvent,
    InboundMessage,
    OutboundMessage,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyRun,
    Tip,
)
from sms_service.surveys.definitions import install_default
from tests.helpers.people import add_caregiver

_serial = count(1)


def add_tip(session: Session, tip_id: str, text: str = "Sing while you change a diaper.") -> Tip:
    """A tip row (texts out refer to it)."""
    tip = Tip(
        id=tip_id, language="en", min_week=0, max_week=52, theme="play", text=text,
        content_hash="x" * 64,
    )  # fmt: skip
    session.add(tip)
    session.flush()
    return tip


def add_text(
    session: Session,
    caregiver: Caregiver,
    *,
    at: datetime,
    kind: str = "tip",
    state: str = "delivered",
    tip_id: str | None = None,
    campaign_id: int | None = None,
    code: str | None = None,
    body: str = "A text",
) -> OutboundMessage:
    """A text out to `caregiver`, due and (unless it failed) sent at `at`."""
    text = OutboundMessage(
        dedupe_key=f"test:{next(_serial)}",
        kind=kind,
        caregiver_id=caregiver.id,
        tip_id=tip_id,
        campaign_id=campaign_id,
        to_number=caregiver.phone,
        body=body,
        state=state,
        due_at=at,
        sent_at=None if state == "failed" else at,
        error_code=code,
    )
    session.add(text)
    session.flush()
    return text


def add_parent_text(
    session: Session, caregiver: Caregiver, *, at: datetime, body: str, handled_as: str = "reply"
) -> InboundMessage:
    """A text from `caregiver` received at `at`, handled as `handled_as`."""
    message = InboundMessage(
        message_sid=f"SMreport{next(_serial):026d}",
        caregiver_id=caregiver.id,
        from_number=caregiver.phone,
        body=body,
        handled_as=handled_as,
        inbox_state="unread" if handled_as == "reply" else None,
        received_at=at,
    )
    session.add(message)
    session.flush()
    return message


def add_opt_out(session: Session, caregiver: Caregiver, *, at: datetime) -> ConsentEvent:
    """A STOP recorded at `at`."""
    event = ConsentEvent(
        caregiver_id=caregiver.id, kind="opt_out", source="keyword", text="STOP", created_at=at
    )
    session.add(event)
    session.flush()
    return event


def add_survey_answer(session: Session, caregiver: Caregiver, *, at: datetime) -> SurveyAnswer:
    """`caregiver`'s answer (yes) to the shipped survey's first question, given at `at`."""
    survey = session.scalar(select(Survey).order_by(Survey.id).limit(1))
    survey = survey or install_default(session=session, now=at)
    question = session.scalars(
        select(SurveyQuestion).where(SurveyQuestion.survey_id == survey.id).limit(1)
    ).one()
    run = SurveyRun(
        survey_id=survey.id,
        caregiver_id=caregiver.id,
        occasion=f"test:{next(_serial)}",
        state="done",
        question_id=question.id,
        asked_at=at,
        created_at=at,
        ended_at=at,
    )
    session.add(run)
    session.flush()
    answer = SurveyAnswer(run_id=run.id, question_id=question.id, value=1, answered_at=at)
    session.add(answer)
    session.flush()
    return answer


def seed_recent(session: Session, *, now: datetime) -> dict[str, Caregiver]:
    """Three families, with figures that differ between the last week and the last 4 weeks.

    Last week: one tip delivered and answered (delivery 100%, reply rate 100%, no opt-outs).
    Last 4 weeks adds, ten days ago: a tip to a landline (30006) and a delivered campaign text
    followed by an opt-out: 3 sent, 2 delivered (67%), reply rate 1 of 3 (33%), 33.3 opt-outs
    per 100 texts.
    """
    add_tip(session, "en-recent", "Name the colours you see on a walk.")
    a = add_caregiver(session, phone="+12125550201")
    b = add_caregiver(session, phone="+12125550202")
    c = add_caregiver(session, phone="+12125550203")
    add_text(session, a, at=now - timedelta(days=2), tip_id="en-recent")
    add_parent_text(session, a, at=now - timedelta(days=2, hours=-1), body="We saw red and blue!")
    earlier = now - timedelta(days=10)
    add_text(session, b, at=earlier, tip_id="en-recent", state="undelivered", code="30006")
    add_text(session, c, at=earlier, kind="campaign", body="Story time at the library")
    add_opt_out(session, c, at=earlier + timedelta(hours=1))
    return {"a": a, "b": b, "c": c}
