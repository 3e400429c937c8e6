"""`POST /sms/inbound`: Twilio's incoming-message webhook, answered with TwiML.

A STOP or PAUSE is answered only once the texts that had passed their last check before it
committed (on their way to Twilio, see jobs/last_check.py) are recorded, so the family never
gets "no more messages" before one of them."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from twilio.twiml.messaging_response import MessagingResponse

from sms_service.caregivers import lifecycle
from sms_service.core import metrics
from sms_service.core.models import utcnow
from sms_service.core.settings import INBOUND_PATH
from sms_service.texting.inbound import Handled, IncomingText, handle_inbound
from sms_service.web.context import (
    AppContext,
    app_context,
    in_read_transaction,
    in_transaction,
)
from sms_service.web.twilio_signature import MAX_WEBHOOK_BYTES, ForbiddenWebhook, verified_form

logger = logging.getLogger(__name__)

# Handlings that stop texts: their answer waits for the texts already on their way.
STOPS_TEXTS = frozenset({"opt_out", "command:pause"})
# The transport gives up on a request after 15 s; a text still on its way after this is stuck
# (its dispatcher died): the webhook answers without it.
ON_THEIR_WAY_SECONDS = 5.0
ON_THEIR_WAY_POLL = 0.015


def twiml(reply: str | None) -> Response:
    """A TwiML document that sends `reply`, or says nothing."""
    response = MessagingResponse()
    if reply is not None:
        response.message(reply)
    return Response(str(response), media_type="application/xml")


def incoming_text(form: FormData) -> IncomingText | None:
    """The message fields of the webhook form; None when it lacks a MessageSid or a sender."""

    def field(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    sid = (field("MessageSid") or field("SmsMessageSid")).strip()
    sender = field("From").strip()
    if not sid or len(sid) > 64 or not sender:
        return None
    media = field("NumMedia").strip()
    return IncomingText(
        message_sid=sid,
        from_number=sender,
        to_number=field("To").strip(),
        body=field("Body"),
        num_media=int(media) if media.isascii() and media.isdigit() and len(media) < 4 else 0,
        opt_out_type=field("OptOutType").strip() or None,
    )


async def receive(incoming: IncomingText, *, context: AppContext, now: datetime) -> Handled:
    """Handle one text in one transaction. The first try writes the text's row once, at the
    end; a unique-constraint clash rolls it all back: the MessageSid was already stored (a
    duplicate delivery), or a concurrent request created the same caregiver first (a new
    phone's two texts at once). The second try looks for the MessageSid first, and sees the
    other request's committed rows."""

    def work(session: Session, check_duplicate: bool) -> Handled:
        return handle_inbound(
            incoming,
            session=session,
            settings=context.settings,
            now=now,
            check_duplicate=check_duplicate,
        )

    try:
        return await in_transaction(context, work, False)
    except IntegrityError:
        logger.info("text %s clashed with a stored row; handling it again", incoming.message_sid)
    return await in_transaction(context, work, True)


async def inbound_sms(request: Request) -> Response:
    context = app_context(request)
    try:
        form = await verified_form(request, context.settings)
    except ForbiddenWebhook:
        return PlainTextResponse("Forbidden", status_code=403)
    incoming = incoming_text(form)
    if incoming is None:
        logger.warning("inbound webhook without MessageSid or From: nothing to do")
        return twiml(None)
    try:
        outcome = await receive(incoming, context=context, now=utcnow())
    except SQLAlchemyError as error:
        # Twilio tries the fallback URL (if any) on a 5xx; nothing was committed.
        logger.error("inbound text %s not stored: %s", incoming.message_sid, type(error).__name__)
        return PlainTextResponse("Service unavailable", status_code=503)
    metrics.INBOUND_TEXTS.labels(kind=outcome.handled_as).inc()
    if outcome.reply is not None:
        metrics.TEXTS_SENT.labels(kind="reply").inc()  # the TwiML answer, recorded as sent
    if outcome.handled_as in STOPS_TEXTS and outcome.caregiver_id is not None:
        await wait_for_texts_on_their_way(context, outcome.caregiver_id)
    return twiml(outcome.reply)


async def wait_for_texts_on_their_way(context: AppContext, caregiver_id: int) -> None:
    """Hold the confirmation ("no more messages") until the texts that had passed their last
    check before the STOP committed are recorded: the family never gets it before one of them.
    Bounded: a dispatcher that died mid-send leaves its row for the lease to bring back."""
    deadline = time.monotonic() + ON_THEIR_WAY_SECONDS
    while await in_read_transaction(context, lifecycle.texts_on_their_way, caregiver_id):
        if time.monotonic() >= deadline:
            logger.warning(
                "caregiver %s: a text still on its way after %.0f s; answering anyway",
                caregiver_id,
                ON_THEIR_WAY_SECONDS,
            )
            return
        await asyncio.sleep(ON_THEIR_WAY_POLL)


routes = [Route(INBOUND_PATH, inbound_sms, methods=["POST"], max_body_size=MAX_WEBHOOK_BYTES)]
