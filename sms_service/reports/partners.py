"""Partners compared: one row of a range's figures per partner, the network's own families and
the totals, counted for all of them at once (grouped by the family's partner, in SQL).

The measures are the dashboard's (reports.figures), so a partner's row matches its dashboard
and the totals match the network's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_service.caregivers.partnership import DEFAULT_PARTNER_SLUG
from sms_service.core.id_lists import in_ids
from sms_service.core.models import Caregiver, OutboundMessage, Partner, SurveyAnswer, SurveyRun
from sms_service.core.scope import NETWORK
from sms_service.core.text_states import StateCounts
from sms_service.reports.answers import (
    ANSWERABLE_KINDS,
    REPLY_WINDOW,
    SENT,
    Answer,
    opt_outs,
    parent_texts,
)
from sms_service.reports.figures import answered_texts, outbox, rate
from sms_service.reports.period import Period

NO_PARTNER = "Network (no partner)"
TOTAL = "All families"


@dataclass(frozen=True)
class PartnerRow:
    """One partner's figures over a range (slug None: the network's own families, who joined
    with no partner but the program itself, or the totals)."""

    name: str
    slug: str | None = None
    enrolled: int = 0  # families who joined in the range
    active: int = 0  # families active now
    sent: int = 0
    opt_outs: int = 0
    replies: int = 0  # parents' texts answering a tip or campaign
    answerable: int = 0  # tip and campaign texts sent
    answered: int = 0  # ... of which got a reply
    delivered: int = 0
    final: int = 0  # texts with a final status (delivered, undelivered, failed)
    survey_answers: int = 0

    @property
    def opt_out_rate(self) -> float | None:
        """Opt-outs per 100 texts sent."""
        return rate(self.opt_outs, self.sent, 100)

    @property
    def reply_rate(self) -> float | None:
        return rate(self.answered, self.answerable)

    @property
    def delivery_rate(self) -> float | None:
        return rate(self.delivered, self.final)


@dataclass(frozen=True)
class Comparison:
    """Every partner's row (by name), the network's own families' row, and the totals."""

    period: Period
    partners: list[PartnerRow]
    unpartnered: PartnerRow
    total: PartnerRow

    @property
    def rows(self) -> list[PartnerRow]:
        return [*self.partners, self.unpartnered, self.total]


Counts = dict[int | None, dict[str, int]]  # partner id (None: no partner) -> field -> count


def _grouped(session: Session, counts: Counts, query: Any, *names: str) -> None:
    """Add a query's rows (partner id, then one count per name) into `counts`."""
    for partner_id, *values in session.execute(query):
        for name, value in zip(names, values, strict=True):
            counts[partner_id][name] += int(value or 0)


def _by_family_partner(
    session: Session, counts: Counts, answers: Iterable[tuple[str, Answer]]
) -> None:
    """Count each (field, answer) for its family's partner, found in one query."""
    answers = list(answers)
    ids = sorted({answer.caregiver_id for _, answer in answers})
    partner_of: dict[int, int | None] = {
        id_: partner_id
        for id_, partner_id in session.execute(
            # One parameter however many families replied (an expanding IN would hit
            # SQLite's limit on bound variables in a busy month).
            select(Caregiver.id, Caregiver.partner_id).where(
                in_ids(Caregiver.id.expression, "ids", ids)
            )
        )
    }
    for name, answer in answers:
        counts[partner_of.get(answer.caregiver_id)][name] += 1


def compare_partners(session: Session, *, period: Period) -> Comparison:
    """Each partner's figures of `period` beside the others' (for the network's staff)."""
    counts: Counts = defaultdict(lambda: defaultdict(int))
    partner = Caregiver.partner_id
    start, end = period.start, period.end
    _grouped(
        session,
        counts,
        select(
            partner,
            func.count().filter(Caregiver.enrolled_at >= start, Caregiver.enrolled_at < end),
            func.count().filter(Caregiver.status == "active"),
        ).group_by(partner),
        "enrolled",
        "active",
    )
    states = (
        select(
            partner,
            OutboundMessage.state,
            func.count(),
            func.count().filter(OutboundMessage.kind.in_(ANSWERABLE_KINDS)),
        )
        .join(Caregiver, Caregiver.id == OutboundMessage.caregiver_id)
        .where(*outbox(period, NETWORK))
        .group_by(partner, OutboundMessage.state)
    )
    by_state: dict[int | None, dict[str, int]] = defaultdict(dict)
    for partner_id, state, count, answerable in session.execute(states):
        by_state[partner_id][state] = count
        if state in SENT:
            counts[partner_id]["answerable"] += answerable
    for owner, found in by_state.items():
        texts = StateCounts(found)
        counts[owner]["sent"] += texts.sent
        counts[owner]["delivered"] += texts.delivered
        counts[owner]["final"] += texts.delivered + texts.undelivered + texts.failed
    _grouped(
        session,
        counts,
        select(partner, func.count())
        .select_from(SurveyAnswer)
        .join(SurveyRun, SurveyRun.id == SurveyAnswer.run_id)
        .join(Caregiver, Caregiver.id == SurveyRun.caregiver_id)
        .where(SurveyAnswer.answered_at >= start, SurveyAnswer.answered_at < end)
        .group_by(partner),
        "survey_answers",
    )
    # Replies and opt-outs follow the dashboard's rule (reports.answers), read once for all.
    answers = parent_texts(session, start=start, end=end + REPLY_WINDOW, scope=NETWORK)
    answered = answered_texts(answers, period)
    _by_family_partner(
        session,
        counts,
        [
            *(("replies", a) for a in answers if a.answers_tip_or_campaign and a.at < end),
            *(("answered", a) for a in _first_reply_to_each(answers, answered)),
            *(("opt_outs", a) for a in opt_outs(session, start=start, end=end, scope=NETWORK)),
        ],
    )

    def row(partner_id: int | None, name: str, slug: str | None) -> PartnerRow:
        return PartnerRow(name=name, slug=slug, **counts.get(partner_id, {}))

    partners, unpartnered = [], row(None, NO_PARTNER, None)
    for id_, name, slug in session.execute(select(Partner.id, Partner.name, Partner.slug)):
        if slug == DEFAULT_PARTNER_SLUG:  # the program itself: families who joined directly
            unpartnered = row(id_, NO_PARTNER, None)
        else:
            partners.append(row(id_, name, slug))
    partners.sort(key=lambda r: r.name.lower())
    return Comparison(period, partners, unpartnered, _total([*partners, unpartnered]))


def _first_reply_to_each(answers: list[Answer], answered: set[int]) -> list[Answer]:
    """One answer per answered text (the text's family is the answer's)."""
    first: dict[int, Answer] = {}
    for answer in answers:
        if answer.text_id in answered:
            first.setdefault(answer.text_id, answer)
    return list(first.values())


def _total(rows: list[PartnerRow]) -> PartnerRow:
    counted = [f.name for f in fields(PartnerRow) if f.type == "int"]
    return replace(
        PartnerRow(name=TOTAL), **{name: sum(getattr(r, name) for r in rows) for name in counted}
    )
