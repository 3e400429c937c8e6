"""What a parent's text answers: the last tip, campaign text or staff answer that went out to
the family before it. The one rule both the inbox ("Answering: ...") and the reports (reply
rates, per-tip results) use, so the two views never disagree."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ScalarSelect, select

from sms_service.core.models import OutboundMessage

# What a parent may be answering; automatic replies and program messages are not it.
ANSWERED_KINDS = ("tip", "campaign", "staff")
# What a family "received": texts the provider took, whatever became of them later.
RECEIVED_STATES = ("sent", "delivered", "undelivered")


def previous_text_id(caregiver_id: Any, at: Any) -> ScalarSelect[int]:
    """SQL for the id of the text `caregiver_id`'s text at `at` answers (NULL: none yet);
    both arguments may be values or columns of an outer query."""
    return (
        select(OutboundMessage.id)
        .where(
            OutboundMessage.caregiver_id == caregiver_id,
            OutboundMessage.kind.in_(ANSWERED_KINDS),
            OutboundMessage.state.in_(RECEIVED_STATES),
            OutboundMessage.sent_at.is_not(None),
            OutboundMessage.sent_at <= at,
        )
        .order_by(OutboundMessage.sent_at.desc(), OutboundMessage.id.desc())
        .limit(1)
        .scalar_subquery()
    )
