"""Is the Twilio account set up for this service: credentials, sender, and webhooks to us."""

from __future__ import annotations

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from sms_service.core.checks import Check
from sms_service.core.settings import INBOUND_PATH, Settings


def twilio_client(settings: Settings) -> Client:
    """A synchronous client for setup checks, at TWILIO_API_BASE_URL when one is set."""
    client = Client(settings.twilio_account_sid, str(settings.twilio_auth_token))
    if settings.twilio_api_base_url is not None:
        client.api.base_url = settings.twilio_api_base_url
        client.messaging.base_url = settings.twilio_api_base_url
    return client


def check_twilio_setup(settings: Settings, client: Client | None = None) -> list[Check]:
    """The account answers with these credentials, the sender exists, and texts to it come to
    this service's PUBLIC_BASE_URL. Nothing is changed at Twilio."""
    if not settings.twilio_enabled:
        return [Check("twilio", True, "not configured: texts go to the console (local mode)")]
    client = client or twilio_client(settings)
    try:
        account = client.api.v2010.accounts(settings.twilio_account_sid).fetch()
    except TwilioRestException as error:
        if error.status == 401:
            return [Check("twilio credentials", False, "Twilio refused TWILIO_AUTH_TOKEN")]
        return [Check("twilio credentials", False, f"Twilio answered {error.status}: {error.msg}")]
    except TwilioException as error:
        return [Check("twilio credentials", False, f"cannot reach Twilio: {error}")]
    credentials = Check(
        "twilio credentials",
        account.status == "active",
        f"account {account.friendly_name!r} is {account.status}",
    )
    return [credentials, _sender_check(client, settings)]


def _sender_check(client: Client, settings: Settings) -> Check:
    wanted = settings.url_for(INBOUND_PATH)
    try:
        if settings.twilio_messaging_service_sid:
            service = client.messaging.v1.services(settings.twilio_messaging_service_sid).fetch()
            where, url = f"Messaging Service {service.friendly_name!r}", service.inbound_request_url
            if service.use_inbound_webhook_on_number:
                return Check(
                    "twilio sender",
                    False,
                    f"{where} leaves incoming texts to each number's own webhook: turn on "
                    f"'Send a webhook' with {wanted}",
                )
        else:
            numbers = client.api.v2010.accounts(settings.twilio_account_sid).incoming_phone_numbers
            found = numbers.list(phone_number=settings.twilio_from_number, limit=1)
            if not found:
                return Check(
                    "twilio sender",
                    False,
                    f"{settings.twilio_from_number} is not a number of this account",
                )
            where, url = f"number {found[0].phone_number}", found[0].sms_url
    except TwilioRestException as error:
        if error.status == 404:
            return Check(
                "twilio sender",
                False,
                "TWILIO_MESSAGING_SERVICE_SID is not a service of this account",
            )
        return Check("twilio sender", False, f"Twilio answered {error.status}: {error.msg}")
    if url != wanted:
        return Check(
            "twilio sender",
            False,
            f"{where} sends incoming texts to {url or 'nowhere'}, not {wanted}",
        )
    return Check("twilio sender", True, f"{where} sends incoming texts to {wanted}")
