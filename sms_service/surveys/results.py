"""What families answered: response rate, each question's distribution by language, age band
and month, and the answers as CSV (no phone numbers: staff compare groups, not people)."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, selectinload

from sms_service.core.models import (
    Caregiver,
    Child,
    OutboundMessage,
    Partner,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyRun,
)
from sms_service.core.scope import Scope

# Age bands of the child a run asked about, in months at the time it was asked.
AGE_BANDS = ((0, "0-5 months"), (6, "6-11 months"), (12, "12-23 months"), (24, "24-35 months"))
UNKNOWN_AGE = "age unknown"
CSV_COLUMNS = ("survey", "question", "answer", "language", "age_band", "partner", "answered_on")


def age_band(*, birth: date | None, on: date) -> str:
    """The band of a child born `birth`, on the day `on` (expected babies count as 0 months)."""
    if birth is None:
        return UNKNOWN_AGE
    months = max(0, (on.year - birth.year) * 12 + on.month - birth.month - (on.day < birth.day))
    return next(label for low, label in reversed(AGE_BANDS) if months >= low)


@dataclass
class Rate:
    """Families asked and families who answered at least one question."""

    asked: int = 0
    responded: int = 0

    @property
    def rate(self) -> float | None:
        """responded / asked; None when nobody was asked."""
        return self.responded / self.asked if self.asked else None

    def to_json(self) -> dict[str, Any]:
        return {"asked": self.asked, "responded": self.responded, "rate": self.rate}


@dataclass
class QuestionResult:
    """One question's answers: how many chose each value, overall and per group."""

    key: str
    kind: str
    text: str
    values: list[int]  # every value that fits, in order (so empty bars show too)
    distribution: Counter[int] = field(default_factory=Counter)
    by_language: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    by_age_band: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    by_partner: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    by_month: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def labels(self) -> list[tuple[int, str]]:
        """(value, how staff read it): "yes" and "no" for a yes/no question, else the number."""
        if self.kind == "yes_no":
            return [(value, "yes" if value == 1 else "no") for value in self.values]
        return [(value, str(value)) for value in self.values]

    @property
    def answered(self) -> int:
        return sum(self.distribution.values())

    def to_json(self) -> dict[str, Any]:
        def table(counts: Counter[int]) -> dict[str, int]:
            return {str(value): counts.get(value, 0) for value in self.values}

        return {
            "key": self.key,
            "kind": self.kind,
            "text": self.text,
            "answered": self.answered,
            "distribution": table(self.distribution),
            "by_language": {k: table(v) for k, v in sorted(self.by_language.items())},
            "by_age_band": {k: table(v) for k, v in sorted(self.by_age_band.items())},
            "by_partner": {k: table(v) for k, v in sorted(self.by_partner.items())},
            "by_month": {k: table(v) for k, v in sorted(self.by_month.items())},
        }


@dataclass
class SurveyResults:
    """A survey's figures."""

    survey_id: int
    name: str
    status: str
    overall: Rate
    by_language: dict[str, Rate]
    by_age_band: dict[str, Rate]
    by_partner: dict[str, Rate]
    questions: list[QuestionResult]

    def to_json(self) -> dict[str, Any]:
        return {
            "survey_id": self.survey_id,
            "name": self.name,
            "status": self.status,
            "response": self.overall.to_json(),
            "response_by_language": {k: v.to_json() for k, v in sorted(self.by_language.items())},
            "response_by_age_band": {k: v.to_json() for k, v in sorted(self.by_age_band.items())},
            "response_by_partner": {k: v.to_json() for k, v in sorted(self.by_partner.items())},
            "questions": [question.to_json() for question in self.questions],
        }


def _values(question: SurveyQuestion) -> list[int]:
    if question.kind == "number" and question.min_value is not None:
        return list(range(question.min_value, (question.max_value or question.min_value) + 1))
    if question.kind == "choice":
        return list(
            range(1, 1 + max((len(v) for v in (question.choices or {}).values()), default=0))
        )
    return [1, 0]  # yes, no


def survey_results(*, session: Session, survey_id: int, scope: Scope) -> SurveyResults | None:
    """The figures of one survey among the families of `scope` (None: no such survey), in two
    grouped reads."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        return None
    asked_text = exists().where(
        OutboundMessage.survey_run_id == SurveyRun.id,
        OutboundMessage.state.in_(("sent", "delivered")),
    )
    answered = exists().where(SurveyAnswer.run_id == SurveyRun.id)
    runs = session.execute(
        select(Caregiver.language, Partner.name, Child.birth_date, SurveyRun.created_at, answered)
        .join(Caregiver, Caregiver.id == SurveyRun.caregiver_id)
        .join(Partner, Partner.id == Caregiver.partner_id)
        .outerjoin(Child, Child.id == SurveyRun.child_id)
        .where(
            SurveyRun.survey_id == survey_id,
            or_(SurveyRun.asked_at.is_not(None), asked_text),
            scope.families(),
        )
    )
    overall = Rate()
    by_language: defaultdict[str, Rate] = defaultdict(Rate)
    by_band: defaultdict[str, Rate] = defaultdict(Rate)
    by_partner: defaultdict[str, Rate] = defaultdict(Rate)
    for language, partner, birth, created, responded in runs:
        band = age_band(birth=birth, on=created.date())
        for rate in (overall, by_language[language], by_band[band], by_partner[partner]):
            rate.asked += 1
            rate.responded += int(bool(responded))
    results = {
        question.id: QuestionResult(
            key=question.key,
            kind=question.kind,
            text=str(next(iter(question.texts.values()))["ask"]),
            values=_values(question),
        )
        for question in survey.questions
    }
    for question_id, value, language, band, partner, answered_at in _answer_rows(
        session, survey_id, scope=scope
    ):
        result = results[question_id]
        result.distribution[value] += 1
        result.by_language[language][value] += 1
        result.by_age_band[band][value] += 1
        result.by_partner[partner][value] += 1
        result.by_month[answered_at.strftime("%Y-%m")][value] += 1
    return SurveyResults(
        survey_id=survey.id,
        name=survey.name,
        status=survey.status,
        overall=overall,
        by_language=dict(by_language),
        by_age_band=dict(by_band),
        by_partner=dict(by_partner),
        questions=list(results.values()),
    )


def _answer_rows(
    session: Session, survey_id: int, *, scope: Scope
) -> list[tuple[int, int, str, str, str, datetime]]:
    """(question, value, language, age band, partner, answered at) of every answer in scope."""
    rows = session.execute(
        select(
            SurveyAnswer.question_id,
            SurveyAnswer.value,
            Caregiver.language,
            Child.birth_date,
            Partner.name,
            SurveyRun.created_at,
            SurveyAnswer.answered_at,
        )
        .join(SurveyRun, SurveyRun.id == SurveyAnswer.run_id)
        .join(Caregiver, Caregiver.id == SurveyRun.caregiver_id)
        .join(Partner, Partner.id == Caregiver.partner_id)
        .outerjoin(Child, Child.id == SurveyRun.child_id)
        .where(SurveyRun.survey_id == survey_id, scope.families())
        .order_by(SurveyAnswer.answered_at, SurveyAnswer.id)
    )
    return [
        (question, value, language, age_band(birth=birth, on=created.date()), partner, answered)
        for question, value, language, birth, partner, created, answered in rows
    ]


def answers_csv(*, session: Session, survey_id: int, scope: Scope) -> str | None:
    """Every answer of a survey from the families of `scope`, as CSV (one row an answer, no
    phone numbers); None: no survey."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        return None
    keys = {question.id: question.key for question in survey.questions}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for question_id, value, language, band, partner, answered_at in _answer_rows(
        session, survey_id, scope=scope
    ):
        answered_on = answered_at.date().isoformat()
        writer.writerow(
            (survey.name, keys[question_id], value, language, band, partner, answered_on)
        )
    return buffer.getvalue()


def list_surveys(*, session: Session) -> list[Survey]:
    """Every survey, newest first."""
    query = (
        select(Survey)
        .options(selectinload(Survey.questions), selectinload(Survey.partner))
        .order_by(Survey.id.desc())
    )
    return list(session.scalars(query))
