"""Delivery reports: Twilio's message statuses applied to the outbox, never moving backwards.

Twilio reports queued, sending, sent, then delivered / undelivered / failed (with ErrorCode).
Reports can arrive out of order or twice, so each one only moves a row forward:
sent -> delivered | undelivered | failed.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from sms_service.caregivers.lifecycle import mark_undeliverable
from sms_service.core.models import OutboundMessage, utcnow

# Twilio's status -> ours; "queued", "accepted", "sending" mean Twilio has it: our "sent".
_STATES = {
    "accepted": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
}
# A report may replace a row in one of these states (and nothing else).
_MAY_REPLACE = {
    "sent": ("sending",),
    "delivered": ("sending", "sent"),
    "undelivered": ("sending", "sent"),
    "failed": ("sending", "sent"),
}
# Delivery errors that say the number itself cannot get texts (not a passing outage):
# 30005 unknown destination handset, 30006 landline or unreachable carrier.
UNDELIVERABLE_ERRORS = frozenset({"30005", "30006"})


def record_status(*, session: Session, sid: str, status: str, error_code: str | None) -> bool:
    """Apply one delivery report to the outbox row with this SID; False when nothing changed."""
    state = _STATES.get(status)
    if state is None:
        return False
    now = utcnow()
    values: dict[str, object] = {"state": state, "updated_at": now}
    if state == "delivered":
        values["delivered_at"] = now
    if state in ("undelivered", "failed") and error_code:
        values["error_code"] = error_code[:20]
    changed = session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.provider_sid == sid,
            OutboundMessage.state.in_(_MAY_REPLACE[state]),
        )
        .values(**values)
        .returning(OutboundMessage.caregiver_id)
    ).scalar_one_or_none()
    if changed is None:
        return False
    if state == "undelivered" and error_code in UNDELIVERABLE_ERRORS:
        mark_undeliverable(session, changed, error_code=error_code, now=now)
    return True
