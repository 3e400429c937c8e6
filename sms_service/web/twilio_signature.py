"""Twilio webhook authentication: the X-Twilio-Signature check shared by every Twilio route."""

from __future__ import annotations

import logging

from starlette.datastructures import FormData
from starlette.requests import Request
from twilio.request_validator import RequestValidator

from sms_service.core.settings import Settings

logger = logging.getLogger(__name__)

# Twilio sends a few form fields; anything this large is not Twilio (each webhook route
# refuses it with a 413 as it streams in).
MAX_WEBHOOK_BYTES = 64 * 1024


class ForbiddenWebhook(Exception):
    """The request was not signed by Twilio with this account's auth token."""


def public_url(request: Request, settings: Settings) -> str:
    """The URL Twilio signed: the configured public base URL plus the path and query we got.

    A proxy in front of the service changes scheme and host, so the URL the app sees is not
    the one Twilio requested; the configured PUBLIC_BASE_URL is.
    """
    url = settings.url_for(request.url.path)
    return f"{url}?{request.url.query}" if request.url.query else url


async def verified_form(request: Request, settings: Settings) -> FormData:
    """The webhook's form fields, once the signature proves Twilio sent them.

    Raises ForbiddenWebhook for a missing or wrong signature. With no Twilio credentials
    (local mode, announced at start-up) every request is accepted.
    """
    form = await request.form(max_files=0, max_fields=200)
    token = settings.twilio_auth_token
    if token is None:
        return form
    signature = request.headers.get("x-twilio-signature", "")
    validator = RequestValidator(str(token))
    if not signature or not validator.validate(public_url(request, settings), form, signature):
        logger.warning("rejected %s: bad or missing X-Twilio-Signature", request.url.path)
        raise ForbiddenWebhook("bad or missing X-Twilio-Signature")
    return form
