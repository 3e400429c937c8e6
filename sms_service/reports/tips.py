"""Per-tip results: each tip's texts sent in a range, and the replies and opt-outs after it.

A reply or opt-out belongs to a tip when the tip was the last text the family was sent before
it, at most 48 hours earlier (reports.answers): "after it" means before the next text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_service.core.models import Caregiver, OutboundMessage, Tip
from sms_service.core.scope import Scope
from sms_service.reports.answers import REPLY_WINDOW, SENT, Answer, opt_outs, parent_texts
from sms_service.reports.figures import texts_between
from sms_service.reports.period import Period


@dataclass(frozen=True)
class TipResult:
    """One tip's figures over a range."""

    tip_id: str
    text: str
    sent: int
    answered: int  # its texts that got a reply
    replies: int  # parents' texts answering it
    opt_outs: int  # opt-outs right after it

    @property
    def reply_rate(self) -> float | None:
        return self.answered / self.sent if self.sent else None

    def to_json(self) -> dict[str, Any]:
        return {
            "tip_id": self.tip_id,
            "text": self.text,
            "sent": self.sent,
            "answered": self.answered,
            "replies": self.replies,
            "opt_outs": self.opt_outs,
            "reply_rate": self.reply_rate,
        }


@dataclass(frozen=True)
class TipReport:
    """One tip over a range: its figures, and the parents' texts and opt-outs after it."""

    result: TipResult
    replies: list[Answer]
    opt_outs: list[Answer]
    families: dict[int, Caregiver]  # who wrote each, by caregiver id


def _sent(
    session: Session, *, period: Period, scope: Scope, tip_id: str | None = None
) -> dict[str, int]:
    """Texts of each tip (or of `tip_id` only) the provider took in `period`, to `scope`."""
    query = select(OutboundMessage.tip_id, func.count()).where(
        OutboundMessage.kind == "tip",
        scope.families(OutboundMessage.caregiver_id),
        OutboundMessage.tip_id.is_not(None),
        OutboundMessage.state.in_(SENT),
        texts_between(period.start, period.end),
    )
    if tip_id is not None:
        query = query.where(OutboundMessage.tip_id == tip_id)
    return dict(session.execute(query.group_by(OutboundMessage.tip_id)).all())  # type: ignore[arg-type]


def _after(
    session: Session, *, period: Period, scope: Scope, sent: dict[str, int]
) -> tuple[dict[str, list[Answer]], dict[str, list[Answer]]]:
    """The replies and the opt-outs after each tip of `sent` sent in `period`, by tip."""
    start, end = period.start, period.end + REPLY_WINDOW

    def by_tip(answers: list[Answer]) -> dict[str, list[Answer]]:
        found: dict[str, list[Answer]] = {}
        for answer in answers:
            if (
                answer.answers_tip_or_campaign
                and answer.tip_id in sent
                and answer.text_id is not None
                and answer.text_sent_at is not None
                and answer.text_sent_at >= period.start
            ):
                found.setdefault(answer.tip_id, []).append(answer)
        return found

    return (
        by_tip(parent_texts(session, start=start, end=end, scope=scope)),
        by_tip(opt_outs(session, start=start, end=end, scope=scope)),
    )


def _result(
    tip_id: str, text: str, sent: int, replies: list[Answer], quits: list[Answer]
) -> TipResult:
    return TipResult(
        tip_id=tip_id,
        text=text,
        sent=sent,
        answered=len({answer.text_id for answer in replies}),
        replies=len(replies),
        opt_outs=len(quits),
    )


def tip_results(session: Session, *, period: Period, scope: Scope) -> list[TipResult]:
    """Every tip sent to `scope`'s families in `period`, the most answered first."""
    sent = _sent(session, period=period, scope=scope)
    texts: dict[str, str] = dict(
        session.execute(select(Tip.id, Tip.text).where(Tip.id.in_(list(sent)))).all()
    )
    replies, quits = _after(session, period=period, scope=scope, sent=sent)
    results = [
        _result(
            tip_id, texts.get(tip_id, ""), count, replies.get(tip_id, []), quits.get(tip_id, [])
        )
        for tip_id, count in sent.items()
    ]
    results.sort(key=lambda r: (-(r.reply_rate or 0), -r.sent, r.tip_id))
    return results


def tip_report(session: Session, *, tip: Tip, period: Period, scope: Scope) -> TipReport:
    """One tip's figures in `period` for `scope`'s families (the same as its row of
    tip_results), with the texts."""
    sent = _sent(session, period=period, scope=scope, tip_id=tip.id)
    replies, quits = _after(session, period=period, scope=scope, sent=sent)
    mine, left = replies.get(tip.id, []), quits.get(tip.id, [])
    ids = {answer.caregiver_id for answer in mine + left}
    families = {c.id: c for c in session.scalars(select(Caregiver).where(Caregiver.id.in_(ids)))}
    result = _result(tip.id, tip.text, sent.get(tip.id, 0), mine, left)
    return TipReport(result, mine, left, families)
