"""Ways of sending a text: Twilio in production, the console locally, fakes in tests."""

from __future__ import annotations

from sms_service.core.settings import Settings
from sms_service.delivery.transports.base import (
    RecipientUnsubscribed,
    SendResult,
    Transport,
    UndeliverableNumber,
)
from sms_service.delivery.transports.console import ConsoleTransport
from sms_service.delivery.transports.twilio import AmbiguousSend, TwilioTransport

__all__ = [
    "AmbiguousSend",
    "ConsoleTransport",
    "RecipientUnsubscribed",
    "SendResult",
    "Transport",
    "TwilioTransport",
    "UndeliverableNumber",
    "build_transport",
]


def build_transport(settings: Settings) -> Transport:
    """Twilio when it is configured, otherwise the console transport."""
    if settings.twilio_enabled:
        return TwilioTransport(settings)
    return ConsoleTransport()
