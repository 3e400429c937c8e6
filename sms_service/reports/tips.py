"""Per-tip results: each tip's texts sent in a range, and the replies and opt-outs after it.

A reply or opt-out belongs to a tip when the tip was the last text the family was sent before
it, at most 48 hours earlier (reports.answers): "after it" means before the next text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_service.core.models import OutboundMessage, Tip
from sms_service.reports.answers import REPLY_WINDOW, SENT, opt_outs, parent_texts
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


def tip_results(session: Session, *, period: Period) -> list[TipResult]:
    """Every tip sent in `period`, the most answered first."""
    start, end = period.start, period.end
    sent: dict[str, int] = dict(
        session.execute(  # type: ignore[arg-type]
            select(OutboundMessage.tip_id, func.count())
            .where(
                OutboundMessage.kind == "tip",
                OutboundMessage.tip_id.is_not(None),
                OutboundMessage.state.in_(SENT),
                texts_between(start, end),
            )
            .group_by(OutboundMessage.tip_id)
        ).all()
    )
    texts: dict[str, str] = dict(
        session.execute(select(Tip.id, Tip.text).where(Tip.id.in_(list(sent)))).all()
    )
    answered: dict[str, set[int]] = {}
    replies: Counter[str] = Counter()
    for answer in parent_texts(session, start=start, end=end + REPLY_WINDOW):
        if answer.answers_tip_or_campaign and answer.tip_id in sent and answer.text_id:
            assert answer.text_sent_at is not None
            if answer.text_sent_at >= start:
                answered.setdefault(answer.tip_id, set()).add(answer.text_id)
                replies[answer.tip_id] += 1
    quits: Counter[str] = Counter(
        answer.tip_id
        for answer in opt_outs(session, start=start, end=end + REPLY_WINDOW)
        if answer.answers_tip_or_campaign
        and answer.tip_id in sent
        and answer.text_sent_at is not None
        and answer.text_sent_at >= start
    )
    results = [
        TipResult(
            tip_id=tip_id,
            text=texts.get(tip_id, ""),
            sent=count,
            answered=len(answered.get(tip_id, ())),
            replies=replies[tip_id],
            opt_outs=quits[tip_id],
        )
        for tip_id, count in sent.items()
    ]
    results.sort(key=lambda r: (-(r.reply_rate or 0), -r.sent, r.tip_id))
    return results
