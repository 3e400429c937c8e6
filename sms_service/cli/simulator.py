"""A pretend phone: texts go through the real webhook in-process, and sent tips are read back."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from types import TracebackType
from uuid import uuid4

from sqlalchemy import Engine, select
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from sms_service.core.db import build_sessionmaker
from sms_service.core.models import OutboundMessage
from sms_service.core.settings import INBOUND_PATH, Settings
from sms_service.web.app import create_app

# What a simulated text arrives at when no Twilio number is configured.
SIMULATED_SERVICE_NUMBER = "+15005550006"
_SHOWN_STATES = ("sent", "delivered", "undelivered")


class SimulatorError(Exception):
    """The service did not answer a simulated text normally."""


class Simulator:
    """Text the service as `phone` would, through the same webhook code Twilio calls."""

    def __init__(self, settings: Settings, engine: Engine, phone: str) -> None:
        self.settings = settings
        self.phone = phone
        self.sessions = build_sessionmaker(engine)
        app = create_app(settings, engine=engine)
        # The in-process client reaches the app at the public URL Twilio would sign.
        self.client = TestClient(
            app, base_url=settings.public_base_url, raise_server_exceptions=False
        )
        self._shown = {row_id for row_id, _ in self._sent()}  # only what arrives from now on

    def __enter__(self) -> Simulator:
        self.client.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.client.__exit__(kind, error, trace)

    def send(self, body: str, *, num_media: int = 0) -> list[str]:
        """Text `body` to the service; the replies it answers with (usually one, or none)."""
        fields = {
            "MessageSid": "SM" + uuid4().hex,
            "AccountSid": self.settings.twilio_account_sid or "AC" + "0" * 32,
            "From": self.phone,
            "To": self.settings.twilio_from_number or SIMULATED_SERVICE_NUMBER,
            "Body": body,
            "NumMedia": str(num_media),
        }
        headers = {}
        token = self.settings.twilio_auth_token
        if token is not None:
            url = self.settings.url_for(INBOUND_PATH)
            headers["X-Twilio-Signature"] = RequestValidator(str(token)).compute_signature(
                url, fields
            )
        response = self.client.post(INBOUND_PATH, data=fields, headers=headers)
        if response.status_code != 200:
            raise SimulatorError(f"the service answered HTTP {response.status_code}")
        return [message.text or "" for message in ET.fromstring(response.text).iter("Message")]

    def new_messages(self) -> list[str]:
        """Texts other than replies (tips, campaigns) sent to this phone since last asked."""
        fresh = [(row_id, body) for row_id, body in self._sent() if row_id not in self._shown]
        self._shown.update(row_id for row_id, _ in fresh)
        return [body for _, body in fresh]

    def _sent(self) -> list[tuple[int, str]]:
        with self.sessions() as session:
            rows = session.execute(
                select(OutboundMessage.id, OutboundMessage.body)
                .where(
                    OutboundMessage.to_number == self.phone,
                    OutboundMessage.kind != "reply",
                    OutboundMessage.state.in_(_SHOWN_STATES),
                )
                .order_by(OutboundMessage.sent_at, OutboundMessage.id)
            )
            return [(row_id, body) for row_id, body in rows]
