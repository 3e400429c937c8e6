"""Run the real dispatcher once, until the outbox is idle, against a fake Twilio."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.orm import Session, sessionmaker

from jobs.dispatcher import Dispatcher
from sms_service.core.settings import Settings
from sms_service.delivery.transports import TwilioTransport
from tests.fakes.twilio_server import FakeTwilio


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
