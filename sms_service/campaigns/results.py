"""What happened to a campaign: audience, sent, delivered, failures by error code, replies and
opt-outs in the 48 hours after each text, all counted in the database."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Interval, and_, distinct, func, literal, select
from sqlalchemy.orm import Session

from sms_service.core.models import ConsentEvent, InboundMessage, OutboundMessage
from sms_service.core.text_states import count_states

RESPONSE_WINDOW = timedelta(hours=48)


@dataclass(frozen=True)
class CampaignResults:
    """A campaign's figures; `reached` counts caregivers, the rest count texts."""

    reached: int = 0
    planned: int = 0
    pending: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    cancelled: int = 0
    failures_by_code: dict[str, int] = field(default_factory=dict)
    replies: int = 0  # caregivers who texted back within 48 h of a campaign text
    opt_outs: int = 0  # caregivers who opted out within 48 h of a campaign text

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def reply_rate(self) -> float | None:
        return self.replies / self.sent if self.sent else None


def campaign_results(session: Session, campaign_id: int) -> CampaignResults:
    """The figures of one campaign."""
    states = count_states(session, OutboundMessage.campaign_id == campaign_id)
    reached = session.scalar(
        select(func.count(distinct(OutboundMessage.caregiver_id))).where(
            OutboundMessage.campaign_id == campaign_id,
            OutboundMessage.state != "cancelled",
        )
    )
    failures = session.execute(
        select(OutboundMessage.error_code, func.count())
        .where(
            OutboundMessage.campaign_id == campaign_id,
            OutboundMessage.state.in_(("failed", "undelivered")),
        )
        .group_by(OutboundMessage.error_code)
    ).all()
    return CampaignResults(
        reached=reached or 0,
        planned=states.planned,
        pending=states.pending,
        sent=states.sent,
        delivered=states.delivered,
        failed=states.failed + states.undelivered,
        cancelled=states.cancelled,
        failures_by_code={code or "unknown": count for code, count in failures},
        replies=_responders(session, campaign_id, InboundMessage, InboundMessage.received_at),
        opt_outs=_responders(
            session,
            campaign_id,
            ConsentEvent,
            ConsentEvent.created_at,
            ConsentEvent.kind == "opt_out",
        ),
    )


def _responders(session: Session, campaign_id: int, model: Any, at: Any, *extra: Any) -> int:
    """Caregivers with a `model` row in the 48 h after one of the campaign's texts to them."""
    window_end: Any
    if session.get_bind().dialect.name == "sqlite":
        # SQLite keeps timestamps as text and has no interval arithmetic of its own.
        hours = int(RESPONSE_WINDOW.total_seconds() // 3600)
        window_end = func.datetime(OutboundMessage.sent_at, f"+{hours} hours")
    else:
        window_end = OutboundMessage.sent_at + literal(RESPONSE_WINDOW, Interval())
    count = session.scalar(
        select(func.count(distinct(model.caregiver_id)))
        .select_from(model)
        .join(
            OutboundMessage,
            and_(
                OutboundMessage.caregiver_id == model.caregiver_id,
                OutboundMessage.campaign_id == campaign_id,
                OutboundMessage.sent_at.is_not(None),
                at >= OutboundMessage.sent_at,
                at <= window_end,
            ),
        )
        .where(*extra)
    )
    return count or 0
