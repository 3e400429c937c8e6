"""Run the real dispatcher once, until the outbox is idle, against a fake Twilio; send back
Twilio's signed delivery reports."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy.orm import Session, sessionmaker

from jobs.dispatcher import Dispatcher
from sms_service.core.settings import Settings
from sms_service.delivery.transports import TwilioTransport
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.settings import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from tests.helpers.twilio_signing import twilio_signature


def dispatch_to_fake(sessions: sessionmaker[Session], settings: Settings, fake: FakeTwilio) -> None:
    """Send every due outbox row through Twilio's REST shape to `fake`, then return."""

    async def run() -> None:
        transport = TwilioTransport(settings, api_base_url=fake.url)
        try:
            await Dispatcher(sessions=sessions, transport=transport, settings=settings).run(
                until_idle=True
            )
        finally:
            await transport.aclose()

    # Playwright's sync API owns the test thread's event loop; the dispatcher gets its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result(timeout=60)


def report_status(base_url: str, settings: Settings, sid: str, status: str, code: str = "") -> None:
    """Twilio's delivery report of message `sid`, signed, to the live server at `base_url`."""
    fields = {"MessageSid": sid, "MessageStatus": status, "AccountSid": TEST_ACCOUNT_SID}
    if code:
        fields["ErrorCode"] = code
    signature = twilio_signature(settings.url_for("/sms/status"), fields, TEST_AUTH_TOKEN)
    response = httpx.post(
        base_url + "/sms/status", data=fields, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code in (200, 204), response.text
