"""`POST /sms/status`: Twilio's delivery reports, recorded without ever moving a message backwards.

Twilio posts queued, sending, sent, then delivered / undelivered / failed (with ErrorCode) to
the StatusCallback URL the dispatcher gives each message. Callbacks can arrive out of order or
twice, so each report only moves a row forward: sent -> delivered | undelivered | failed.
Unknown SIDs (a reply, another app on the account, a row not yet recorded) are answered 200
without writing, so Twilio does not retry them.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sms_service.core.db import transaction
from sms_service.delivery.status import record_status
from sms_service.web.context import app_context
from sms_service.web.twilio_signature import ForbiddenWebhook, verified_form

logger = logging.getLogger(__name__)


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

    def apply() -> bool:
        with transaction(context.sessions) as session:
            return record_status(session=session, sid=sid, status=status, error_code=error_code)

    changed = await run_in_threadpool(apply)
    logger.debug("status %s for %s: %s", status, sid, "recorded" if changed else "ignored")
    return Response(status_code=200)


routes = [Route("/sms/status", status_callback, methods=["POST"])]
