"""A range's figures: texts by outcome, the three rates, a weekly series and failures in words.

Definitions (also in the README, "Staff admin"):
- texts sent: texts the provider took (sent, delivered, undelivered), automatic TwiML replies
  aside; a text's time is when it was sent (when it was due, for one refused before sending).
- delivery rate: delivered / texts with a final status (delivered, undelivered, failed).
- opt-out rate: opt-outs recorded in the range per 100 texts sent in the range.
- reply rate: tip and campaign texts sent in the range that got a reply to them (see
  reports.answers: within 48 h and before the next text), over tip and campaign texts sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, select
from sqlalchemy.orm import Session

from sms_service.core.delivery_errors import in_words
from sms_service.core.models import OutboundMessage, SurveyAnswer, SurveyRun
from sms_service.core.scope import Scope
from sms_service.core.text_states import count_states
from sms_service.reports.answers import (
    ANSWERABLE_KINDS,
    REPLY_WINDOW,
    SENT,
    Answer,
    opt_outs,
    parent_texts,
)
from sms_service.reports.period import Period

FINAL = ("delivered", "undelivered", "failed")
NOT_DELIVERED = ("undelivered", "failed")


def rate(part: int, whole: int, scale: int = 1) -> float | None:
    """part / whole (times `scale`); None when there is no whole to count against."""
    return part * scale / whole if whole else None


@dataclass(frozen=True)
class Week:
    """One 7-day bucket of the engagement series."""

    start: date
    sent: int = 0
    delivered: int = 0
    answerable: int = 0  # tip and campaign texts sent
    answered: int = 0  # ... of which got a reply
    replies: int = 0  # parents' texts received that answer a tip or campaign
    opt_outs: int = 0

    @property
    def reply_rate(self) -> float | None:
        return rate(self.answered, self.answerable)


@dataclass(frozen=True)
class Failure:
    """Texts not delivered for one error code, with the families affected."""

    code: str
    words: str
    texts: int
    families: int


@dataclass(frozen=True)
class Report:
    """What happened in a range; each rate is None when its denominator is 0."""

    period: Period
    planned: int = 0  # every text out in the range, whatever became of it
    sent: int = 0
    delivered: int = 0
    undelivered: int = 0
    awaiting: int = 0  # sent, no delivery report yet
    failed: int = 0  # refused before reaching a carrier
    cancelled: int = 0
    pending: int = 0
    families_reached: int = 0
    answerable: int = 0
    answered: int = 0
    replies: int = 0
    other_parent_texts: int = 0  # parents' own words that answer no tip or campaign
    families_replied: int = 0
    opt_outs: int = 0
    survey_answers: int = 0  # answers to survey questions given in the range
    weekly: list[Week] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def delivery_rate(self) -> float | None:
        return rate(self.delivered, self.delivered + self.undelivered + self.failed)

    @property
    def opt_out_rate(self) -> float | None:
        """Opt-outs per 100 texts sent."""
        return rate(self.opt_outs, self.sent, 100)

    @property
    def reply_rate(self) -> float | None:
        return rate(self.answered, self.answerable)

    @property
    def funnel(self) -> list[tuple[str, int]]:
        return [
            ("planned", self.planned),
            ("sent", self.sent),
            ("delivered", self.delivered),
            ("failed", self.undelivered + self.failed),
        ]

    def to_json(self) -> dict[str, Any]:
        """The figures as the API gives them."""
        return {
            "range": {
                "from": self.period.first.isoformat(),
                "to": self.period.last.isoformat(),
                "preset": self.period.preset,
            },
            "texts": {
                "planned": self.planned,
                "sent": self.sent,
                "delivered": self.delivered,
                "undelivered": self.undelivered,
                "awaiting_report": self.awaiting,
                "failed": self.failed,
                "cancelled": self.cancelled,
                "pending": self.pending,
                "families_reached": self.families_reached,
            },
            "replies": {
                "tip_and_campaign_texts_sent": self.answerable,
                "answered": self.answered,
                "replies_to_tips_and_campaigns": self.replies,
                "other_parent_texts": self.other_parent_texts,
                "families_replied": self.families_replied,
                "window_hours": int(REPLY_WINDOW.total_seconds() // 3600),
            },
            "opt_outs": self.opt_outs,
            "survey_answers": self.survey_answers,
            "rates": {
                "delivery": self.delivery_rate,
                "opt_outs_per_100_sent": self.opt_out_rate,
                "reply": self.reply_rate,
            },
            "funnel": [{"step": step, "texts": count} for step, count in self.funnel],
            "weekly": [
                {
                    "week": week.start.isoformat(),
                    "sent": week.sent,
                    "delivered": week.delivered,
                    "tip_and_campaign_texts_sent": week.answerable,
                    "answered": week.answered,
                    "replies": week.replies,
                    "opt_outs": week.opt_outs,
                    "reply_rate": week.reply_rate,
                }
                for week in self.weekly
            ],
            "failures": [
                {"code": f.code, "words": f.words, "texts": f.texts, "families": f.families}
                for f in self.failures
            ],
        }


def _when() -> Any:
    """A text's time: sent, or due for one never sent."""
    return func.coalesce(OutboundMessage.sent_at, OutboundMessage.due_at)


def texts_between(low: datetime, high: datetime) -> Any:
    """Texts whose time is in [low, high)."""
    return and_(_when() >= low, _when() < high)


def outbox(period: Period, scope: Scope) -> tuple[ColumnElement[bool], ...]:
    """The texts a range's figures count: `scope`'s families', out in `period`, automatic
    replies aside."""
    return (
        OutboundMessage.kind != "reply",
        texts_between(period.start, period.end),
        scope.families(OutboundMessage.caregiver_id),
    )


def answered_texts(answers: Iterable[Answer], period: Period) -> set[int]:
    """The tip and campaign texts sent in `period` that `answers` (replies up to REPLY_WINDOW
    after it) answer."""
    return {
        a.text_id
        for a in answers
        if a.answers_tip_or_campaign
        and a.text_id is not None
        and a.text_sent_at is not None
        and a.text_sent_at >= period.start
    }


def range_report(session: Session, *, period: Period, scope: Scope) -> Report:
    """The figures of `period` for `scope`'s families, counted in the database."""
    start, end = period.start, period.end
    out = outbox(period, scope)
    states = count_states(session, *out)
    sent = OutboundMessage.state.in_(SENT)
    answerable = and_(sent, OutboundMessage.kind.in_(ANSWERABLE_KINDS))
    reached, total_answerable = session.execute(
        select(
            func.count(distinct(OutboundMessage.caregiver_id)).filter(sent),
            func.count().filter(answerable),
        ).where(*out)
    ).one()
    # A reply up to REPLY_WINDOW after the range still answers a text sent in it.
    answers = parent_texts(session, start=start, end=end + REPLY_WINDOW, scope=scope)
    to_texts = [a for a in answers if a.answers_tip_or_campaign]
    in_range = [a for a in answers if a.at < end]
    quits = opt_outs(session, start=start, end=end, scope=scope)
    return Report(
        period=period,
        planned=states.planned,
        sent=states.sent,
        delivered=states.delivered,
        undelivered=states.undelivered,
        awaiting=states.awaiting,
        failed=states.failed,
        cancelled=states.cancelled,
        pending=states.pending,
        families_reached=reached,
        answerable=total_answerable,
        answered=len(answered_texts(to_texts, period)),
        replies=sum(1 for a in in_range if a.answers_tip_or_campaign),
        other_parent_texts=sum(1 for a in in_range if not a.answers_tip_or_campaign),
        families_replied=len({a.caregiver_id for a in in_range if a.answers_tip_or_campaign}),
        opt_outs=len(quits),
        survey_answers=survey_answers(session, period=period, scope=scope),
        weekly=_weekly(session, period, out, to_texts, quits),
        failures=_failures(session, out),
    )


def survey_answers(session: Session, *, period: Period, scope: Scope) -> int:
    """Survey answers `scope`'s families gave in `period`."""
    count = session.scalar(
        select(func.count())
        .select_from(SurveyAnswer)
        .join(SurveyRun, SurveyRun.id == SurveyAnswer.run_id)
        .where(
            SurveyAnswer.answered_at >= period.start,
            SurveyAnswer.answered_at < period.end,
            scope.families(SurveyRun.caregiver_id),
        )
    )
    return count or 0


def _weekly(
    session: Session,
    period: Period,
    out: tuple[ColumnElement[bool], ...],
    to_texts: list[Answer],
    quits: list[Answer],
) -> list[Week]:
    buckets = period.weeks()
    sent = OutboundMessage.state.in_(SENT)
    columns = []
    for low, high in buckets:
        now_in = texts_between(low, high)
        columns += [
            func.sum(case((and_(now_in, sent), 1), else_=0)),
            func.sum(case((and_(now_in, OutboundMessage.state == "delivered"), 1), else_=0)),
            func.sum(
                case((and_(now_in, sent, OutboundMessage.kind.in_(ANSWERABLE_KINDS)), 1), else_=0)
            ),
        ]
    counts = session.execute(select(*columns).where(*out)).one()

    def within(at: datetime | None, low: datetime, high: datetime) -> bool:
        return at is not None and low <= at < high

    weeks = []
    for index, (low, high) in enumerate(buckets):
        weeks.append(
            Week(
                start=low.date(),
                sent=int(counts[3 * index] or 0),
                delivered=int(counts[3 * index + 1] or 0),
                answerable=int(counts[3 * index + 2] or 0),
                answered=len({a.text_id for a in to_texts if within(a.text_sent_at, low, high)}),
                replies=_count(a.at for a in to_texts if within(a.at, low, high)),
                opt_outs=_count(a.at for a in quits if within(a.at, low, high)),
            )
        )
    return weeks


def _count(items: Iterable[object]) -> int:
    return sum(1 for _ in items)


def _failures(session: Session, out: tuple[ColumnElement[bool], ...]) -> list[Failure]:
    rows = session.execute(
        select(
            OutboundMessage.error_code,
            func.count(),
            func.count(distinct(OutboundMessage.caregiver_id)),
        )
        .where(*out, OutboundMessage.state.in_(NOT_DELIVERED))
        .group_by(OutboundMessage.error_code)
        .order_by(func.count().desc(), OutboundMessage.error_code)
    )
    return [
        Failure(code or "", in_words(code) or "no error code given", texts, families)
        for code, texts, families in rows
    ]
