"""An experiment's results read from the database: per arm, the families sent the tip and what
followed (delivered, a reply within 48 hours, an opt-out within 7 days, survey answers).

Each family counts once per arm, from its first text of the experiment (a family with two
children may be sent the tip twice, always in the same wording). A reply counts when the
reports' rule (reports/answers.py, core/answered.py) ties it to one of the experiment's texts:
the last tip, campaign or staff text before it, at most 48 hours earlier. An opt-out counts
when it comes within 7 days of the family's first text of the experiment, whatever came
between: the question is whether the wording drove families away, not which text they
answered with STOP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from sms_service.core.answered import RECEIVED_STATES, previous_text_id
from sms_service.core.models import (
    ConsentEvent,
    Experiment,
    InboundMessage,
    OutboundMessage,
    SurveyAnswer,
    SurveyQuestion,
    SurveyRun,
)
from sms_service.core.scope import NETWORK, Scope
from sms_service.experiments.outcomes import ArmCounts, Comparison, compare_all
from sms_service.reports.answers import PARENT_WORDS, REPLY_WINDOW

OPT_OUT_WINDOW = timedelta(days=7)
ARMS = ("A", "B")


@dataclass(frozen=True)
class SurveyArms:
    """One survey question answered after the experiment's tip: answers and mean per arm."""

    question_id: int
    key: str
    text: str  # the question as asked in English (or its first language)
    answers: dict[str, int]
    means: dict[str, float | None]


@dataclass(frozen=True)
class Results:
    """Counts per arm, each outcome compared (B - A, 95% interval, the sentence)."""

    experiment: Experiment
    a: ArmCounts
    b: ArmCounts
    comparisons: list[Comparison]
    surveys: list[SurveyArms]

    def to_json(self) -> dict[str, Any]:
        """The results as the API gives them (rates and bounds as fractions, not percent)."""
        e = self.experiment
        return {
            **experiment_json(e),
            "arms": {
                arm.arm: {
                    "sent": arm.sent,
                    "delivered": arm.delivered,
                    "replied_48h": arm.replied_48h,
                    "opted_out_7d": arm.opted_out_7d,
                }
                for arm in (self.a, self.b)
            },
            "comparisons": [
                {
                    "outcome": c.outcome,
                    "rate_a": c.rate_a,
                    "rate_b": c.rate_b,
                    "difference": c.difference,
                    "low": c.low,
                    "high": c.high,
                    "clear": c.clear,
                    "sentence": c.sentence,
                }
                for c in self.comparisons
            ],
            "surveys": [
                {
                    "question_id": q.question_id,
                    "key": q.key,
                    "text": q.text,
                    "answers": q.answers,
                    "means": q.means,
                }
                for q in self.surveys
            ],
        }


def experiment_json(e: Experiment) -> dict[str, Any]:
    """An experiment's own fields as JSON."""

    def moment(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": e.id,
        "tip_id": e.tip_id,
        "wording_b": e.wording_b,
        "share_b": e.share_b,
        "status": e.status,
        "started_at": moment(e.started_at),
        "stop_at": moment(e.stop_at),
        "target_size": e.target_size,
        "stopped_at": moment(e.stopped_at),
        "kept_arm": e.kept_arm,
    }


def _first_texts(
    session: Session, experiment_id: int, scope: Scope
) -> tuple[dict[int, tuple[str, datetime]], dict[int, bool]]:
    """Each family's arm and first send time; whether any of its texts was delivered."""
    rows = session.execute(
        select(
            OutboundMessage.caregiver_id,
            OutboundMessage.arm,
            OutboundMessage.sent_at,
            OutboundMessage.state,
        )
        .where(
            OutboundMessage.experiment_id == experiment_id,
            OutboundMessage.arm.is_not(None),
            OutboundMessage.state.in_(RECEIVED_STATES),
            OutboundMessage.sent_at.is_not(None),
            scope.families(OutboundMessage.caregiver_id),
        )
        .order_by(OutboundMessage.sent_at, OutboundMessage.id)
    ).all()
    first: dict[int, tuple[str, datetime]] = {}
    delivered: dict[int, bool] = {}
    for caregiver_id, arm, sent_at, state in rows:
        if arm is None or sent_at is None:
            continue  # the query leaves these out; the check tells the type checker
        first.setdefault(caregiver_id, (arm, sent_at))
        delivered[caregiver_id] = delivered.get(caregiver_id, False) or state == "delivered"
    return first, delivered


def _repliers(session: Session, experiment_id: int, scope: Scope) -> set[int]:
    """Families whose own words answered one of the experiment's texts within 48 hours."""
    text = aliased(OutboundMessage)
    rows = session.execute(
        select(InboundMessage.caregiver_id, InboundMessage.received_at, text.sent_at)
        .join(
            text,
            text.id == previous_text_id(InboundMessage.caregiver_id, InboundMessage.received_at),
        )
        .where(
            InboundMessage.handled_as == PARENT_WORDS,
            text.experiment_id == experiment_id,
            scope.families(InboundMessage.caregiver_id),
        )
    ).all()
    return {
        caregiver_id
        for caregiver_id, at, sent_at in rows
        if caregiver_id is not None and sent_at is not None and at - sent_at <= REPLY_WINDOW
    }


def _opted_out(session: Session, first: dict[int, tuple[str, datetime]]) -> set[int]:
    """Families that opted out within 7 days of their first text of the experiment."""
    if not first:
        return set()
    since = min(sent_at for _, sent_at in first.values())
    rows = session.execute(
        select(ConsentEvent.caregiver_id, ConsentEvent.created_at).where(
            ConsentEvent.kind == "opt_out",
            ConsentEvent.created_at >= since,
            ConsentEvent.caregiver_id.in_(list(first)),
        )
    ).all()
    return {
        caregiver_id
        for caregiver_id, at in rows
        if timedelta(0) <= at - first[caregiver_id][1] <= OPT_OUT_WINDOW
    }


def _survey_answers(session: Session, first: dict[int, tuple[str, datetime]]) -> list[SurveyArms]:
    """Answers to survey questions given after the family's first text of the experiment."""
    if not first:
        return []
    rows = session.execute(
        select(
            SurveyRun.caregiver_id,
            SurveyQuestion.id,
            SurveyQuestion.key,
            SurveyQuestion.texts,
            SurveyAnswer.value,
            SurveyAnswer.answered_at,
        )
        .join(SurveyRun, SurveyRun.id == SurveyAnswer.run_id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .where(SurveyRun.caregiver_id.in_(list(first)))
        .order_by(SurveyQuestion.id)
    ).all()
    sums: dict[int, dict[str, list[int]]] = {}
    keys: dict[int, tuple[str, str]] = {}
    for caregiver_id, question_id, key, texts, value, answered_at in rows:
        arm, sent_at = first[caregiver_id]
        if answered_at < sent_at:
            continue
        keys[question_id] = (key, str(texts.get("en") or next(iter(texts.values()), key)))
        sums.setdefault(question_id, {a: [] for a in ARMS})[arm].append(value)
    return [
        SurveyArms(
            question_id=question_id,
            key=keys[question_id][0],
            text=keys[question_id][1],
            answers={arm: len(values) for arm, values in by_arm.items()},
            means={
                arm: (sum(values) / len(values) if values else None)
                for arm, values in by_arm.items()
            },
        )
        for question_id, by_arm in sums.items()
    ]


def experiment_results(
    session: Session, experiment: Experiment, *, scope: Scope = NETWORK
) -> Results:
    """The experiment's counts per arm among `scope`'s families, and B against A."""
    first, delivered = _first_texts(session, experiment.id, scope)
    replied = _repliers(session, experiment.id, scope)
    opted = _opted_out(session, first)

    def counts(arm: str) -> ArmCounts:
        families = [c for c, (a, _) in first.items() if a == arm]
        return ArmCounts(
            arm=arm,
            sent=len(families),
            delivered=sum(1 for c in families if delivered[c]),
            replied_48h=sum(1 for c in families if c in replied),
            opted_out_7d=sum(1 for c in families if c in opted),
        )

    a, b = counts("A"), counts("B")
    return Results(experiment, a, b, compare_all(a=a, b=b), _survey_answers(session, first))
