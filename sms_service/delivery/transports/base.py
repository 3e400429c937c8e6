"""The Transport seam: what every way of sending a text (Twilio, console, test fakes) provides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sms_service.core.errors import PermanentSend


@dataclass(frozen=True)
class SendResult:
    """The provider accepted the message: its id (Twilio's SID) and first status."""

    sid: str
    status: str


class RecipientUnsubscribed(PermanentSend):
    """The carrier or Twilio says the recipient replied STOP: they must be marked opted out."""


class UndeliverableNumber(PermanentSend):
    """The number cannot receive texts (invalid, landline, unreachable): stop sending to it."""


class Transport(Protocol):
    """Sends texts; raises sms_service.core.errors.RetryableSend or PermanentSend when it cannot."""

    async def send(
        self, *, to: str, body: str, status_callback: str | None, sender: str | None = None
    ) -> SendResult:
        """Hand one text to the provider."""
        ...

    async def find_sent(self, *, to: str, body: str, since: datetime) -> str | None:
        """The id of a message with this body sent to `to` since `since`, if there is one."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
