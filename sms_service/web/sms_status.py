"""`POST /sms/status`: Twilio's delivery reports, recorded without ever moving a message backwards.

Twilio posts queued, sending, sent, then delivered / undelivered / failed (with ErrorCode) to
the StatusCallback URL the dispatcher gives each message. Callbacks can arrive out of order or
twice, so each report only moves a row forward: sent -> delivered | undelivered | failed.
Unknown SIDs (a reply, another app on the account, a row not yet recorded) are answered 200
without writing, so Twilio does not retry them.
"""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sms_service.core.models import Caregiver, OutboundMessage, utcnow
from sms_service.web.context import app_context, in_transaction
from sms_service.web.twilio_signature import ForbiddenWebhook, verified_form

logger = logging.getLogger(__name__)

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


def record_status(session: Session, *, sid: str, status: str, error_code: str | None) -> bool:
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
        session.execute(
            update(Caregiver)
            .where(Caregiver.id == changed, Caregiver.status.in_(("active", "paused")))
            .values(status="undeliverable", updated_at=now)
        )
    return True


async def status_callback(request: Request) -> Response:
    """Record one Twilio status callback; 403 unless Twilio signed it."""
    context = app_context(request)
    try:
        form = await verified_form(request, context.settings)
    except ForbiddenWebhook:
        return Response("forbidden", status_code=403, media_type="text/plain")
    sid = str(form.get("MessageSid") or form.get("SmsSid") or "")
    status = str(form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    error_code = str(form.get("ErrorCode") or "") or None
    if not sid or not status:
        return Response("missing MessageSid or MessageStatus", status_code=400)

    changed = await in_transaction(
        context, record_status, sid=sid, status=status, error_code=error_code
    )
    logger.debug("status %s for %s: %s", status, sid, "recorded" if changed else "ignored")
    return Response(status_code=200)


routes = [Route("/sms/status", status_callback, methods=["POST"])]
