"""`POST /sms/status`: Twilio's signed delivery reports, applied by sms_service.delivery.status.

Every signed report is answered 200 (Twilio retries anything else), also for SIDs not yet
known: those are kept until the dispatcher stores the SID; 503 while the database is away.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sms_service.core import metrics
from sms_service.core.settings import STATUS_PATH
from sms_service.delivery.status import record_status
from sms_service.texting.inbound import storable
from sms_service.web.context import app_context, in_transaction
from sms_service.web.twilio_signature import MAX_WEBHOOK_BYTES, ForbiddenWebhook, verified_form

logger = logging.getLogger(__name__)


async def status_callback(request: Request) -> Response:
    """Record one Twilio status callback; 403 unless Twilio signed it."""
    context = app_context(request)
    try:
        form = await verified_form(request, context.settings)
    except ForbiddenWebhook:
        return Response("forbidden", status_code=403, media_type="text/plain")
    # As a text column holds them: a NUL in a query parameter fails on PostgreSQL (a 500).
    sid = storable(str(form.get("MessageSid") or form.get("SmsSid") or ""))
    status = storable(str(form.get("MessageStatus") or form.get("SmsStatus") or "")).lower()
    error_code = storable(str(form.get("ErrorCode") or "")) or None
    if not sid or not status:
        return Response("missing MessageSid or MessageStatus", status_code=400)

    try:
        changed = await in_transaction(
            context, record_status, sid=sid, status=status, error_code=error_code
        )
    except SQLAlchemyError as error:
        # The database is away: nothing was written, and a 503 says so (a 500 would say bug).
        logger.error("status %s for %s not recorded: %s", status, sid, type(error).__name__)
        return Response("service unavailable", status_code=503, media_type="text/plain")
    metrics.STATUS_CALLBACKS.labels(status=metrics.status_label(status)).inc()
    logger.debug("status %s for %s: %s", status, sid, "recorded" if changed else "ignored")
    return Response(status_code=200)


routes = [Route(STATUS_PATH, status_callback, methods=["POST"], max_body_size=MAX_WEBHOOK_BYTES)]
