"""Surveys in the database: made from a written survey (content/surveys), read back as one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.survey_specs import QuestionSpec, SurveySpec, check_survey, default_survey
from sms_service.core.audit import CLI_ACTOR, Actor
from sms_service.core.models import Partner, Survey, SurveyQuestion


class SurveyError(ValueError):
    """A survey that cannot be made or changed as asked; the message says why, for staff."""


@dataclass(frozen=True)
class SurveyAudience:
    """Who a survey asks beyond the child's age (in the spec): None means any."""

    language: str | None = None
    tag: str | None = None
    partner_id: int | None = None


def create_survey(
    *,
    session: Session,
    spec: SurveySpec,
    now: datetime,
    audience: SurveyAudience = SurveyAudience(),
    actor: Actor = CLI_ACTOR,
) -> Survey:
    """A draft survey from `spec` for `audience`, audited; SurveyError when a text fails the
    checker or the audience names what does not exist."""
    errors = [finding for finding in check_survey(spec) if finding.severity == "error"]
    if errors:
        first = errors[0]
        raise SurveyError(f"{first.item_id}: {first.rule}: {first.message}")
    if audience.language is not None and audience.language not in spec.languages:
        raise SurveyError(f"the survey has no {audience.language} texts for its audience")
    if audience.partner_id is not None and session.get(Partner, audience.partner_id) is None:
        raise SurveyError("pick one of the partners")
    if session.scalar(select(Survey.id).where(Survey.name == spec.name)) is not None:
        raise SurveyError(f"a survey named {spec.name!r} already exists")
    survey = Survey(
        name=spec.name,
        status="draft",
        language=audience.language,
        tag=audience.tag,
        partner_id=audience.partner_id,
        schedule=spec.schedule,
        every_weeks=spec.every_weeks,
        at_age_months=list(spec.at_age_months) if spec.at_age_months else None,
        min_age_months=spec.min_age_months,
        max_age_months=spec.max_age_months,
        created_at=now,
        updated_at=now,
        questions=[
            _question(position, question, spec)
            for position, question in enumerate(spec.questions, start=1)
        ],
    )
    session.add(survey)
    session.flush()
    actor.audit(session, "survey.create", survey, name=survey.name, partner_id=survey.partner_id)
    return survey


def _question(position: int, question: QuestionSpec, spec: SurveySpec) -> SurveyQuestion:
    # The re-ask, the thanks and the yes/no words travel with each question's texts, so a
    # question in the database is answerable on its own (no file needed at answer time).
    texts = {
        language: {
            "ask": question.ask[language],
            "reask": question.reask[language],
            "thanks": spec.thanks[language],
            **({"yes_no": spec.yes_no[language]} if question.kind == "yes_no" else {}),
        }
        for language in spec.languages
    }
    return SurveyQuestion(
        position=position,
        key=question.key or f"q{position}",
        kind=question.kind,
        min_value=question.min_value,
        max_value=question.max_value,
        texts=texts,
        choices=question.choices,
    )


def install_default(*, session: Session, now: datetime) -> Survey:
    """The shipped survey as a draft (the one already there, when it was installed before)."""
    spec = default_survey()
    existing = session.scalar(select(Survey).where(Survey.name == spec.name))
    return existing if existing is not None else create_survey(session=session, spec=spec, now=now)


def start_survey(*, session: Session, survey_id: int, now: datetime) -> Survey:
    """Make a survey active: the planner asks its audience from the next run on."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise SurveyError(f"no survey {survey_id}")
    if survey.status == "stopped":
        raise SurveyError("a stopped survey stays stopped: copy it to ask again")
    survey.status = "active"
    survey.updated_at = now
    return survey


def stop_survey(*, session: Session, survey_id: int, now: datetime) -> Survey:
    """Stop asking: no new runs are planned; questions already out may still be answered."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise SurveyError(f"no survey {survey_id}")
    survey.status = "stopped"
    survey.updated_at = now
    return survey
