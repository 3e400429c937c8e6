"""A parent's phone for tests: texts the service through webhook requests signed like Twilio's."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.models import Caregiver, Child, ConsentEvent, InboundMessage, OutboundMessage
from tests.helpers.settings import TEST_AUTH_TOKEN, TEST_PUBLIC_BASE_URL
from tests.helpers.twilio_signing import twilio_signature

INBOUND_URL = TEST_PUBLIC_BASE_URL + "/sms/inbound"
SERVICE_NUMBER = "+15005550006"
_sids = itertools.count(1)


class Poster(Protocol):
    """starlette's TestClient and httpx.Client both post like this."""

    def post(self, url: str, *, data: Any = ..., headers: Any = ...) -> Any: ...


def new_sid() -> str:
    """A fresh Twilio-style MessageSid."""
    return f"SM{next(_sids):032x}"


def replies(twiml: str) -> list[str]:
    """The message bodies of a TwiML response."""
    return [message.text or "" for message in ET.fromstring(twiml).iter("Message")]


class Phone:
    """One phone number texting the service; `text` returns the reply body (or None)."""

    def __init__(self, client: Poster, number: str = "+12125550123", *, signed: bool = True):
        self.client = client
        self.number = number
        self.signed = signed
        self.last_status = 0

    def form(self, body: str, **extra: str) -> dict[str, str]:
        fields = {
            "MessageSid": new_sid(),
            "AccountSid": "AC" + "0123456789abcdef" * 2,
            "From": self.number,
            "To": SERVICE_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        fields["SmsMessageSid"] = fields["MessageSid"]
        fields.update(extra)
        return fields

    def post(self, fields: dict[str, str], *, signature: str | None = None) -> Any:
        headers = {}
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        elif self.signed:
            headers["X-Twilio-Signature"] = twilio_signature(INBOUND_URL, fields, TEST_AUTH_TOKEN)
        response = self.client.post("/sms/inbound", data=fields, headers=headers)
        self.last_status = response.status_code
        return response

    def text(self, body: str, **extra: str) -> str | None:
        response = self.post(self.form(body, **extra))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        bodies = replies(response.text)
        assert len(bodies) <= 1
        return bodies[0] if bodies else None


def caregiver(sessions: sessionmaker[Session], phone: str) -> Caregiver:
    with sessions() as session:
        found = session.scalar(select(Caregiver).where(Caregiver.phone == phone))
        assert found is not None, f"no caregiver {phone}"
        return found


def children(sessions: sessionmaker[Session], phone: str) -> list[Child]:
    with sessions() as session:
        return list(
            session.scalars(
                select(Child).join(Caregiver).where(Caregiver.phone == phone).order_by(Child.id)
            )
        )


def consents(sessions: sessionmaker[Session], phone: str) -> list[ConsentEvent]:
    with sessions() as session:
        return list(
            session.scalars(
                select(ConsentEvent)
                .join(Caregiver, Caregiver.id == ConsentEvent.caregiver_id)
                .where(Caregiver.phone == phone)
                .order_by(ConsentEvent.id)
            )
        )


def outbox(sessions: sessionmaker[Session], phone: str) -> list[OutboundMessage]:
    with sessions() as session:
        return list(
            session.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.to_number == phone)
                .order_by(OutboundMessage.id)
            )
        )


# counts() of a database the webhook has written nothing to.
NOTHING = {
    "caregiver": 0,
    "child": 0,
    "consent_event": 0,
    "inbound_message": 0,
    "outbound_message": 0,
}


def counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Rows per table the webhook writes."""
    with sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Caregiver, Child, ConsentEvent, InboundMessage, OutboundMessage)
        }
