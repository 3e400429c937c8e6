"""A real dispatcher in its own process, for the crash loop: its clock stands at NOON_NEW_YORK
plus an offset, so each restarted dispatcher is past the leases of the one killed before it.

    python -m tests.reliability.dispatcher_child DATABASE_URL FAKE_URL OFFSET_SECONDS RATE
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from jobs.dispatcher import Dispatcher
from sms_service.core.db import build_engine, build_sessionmaker
from sms_service.delivery.transports import TwilioTransport
from tests.helpers.settings import make_settings
from tests.jobs.outbox import NOON_NEW_YORK


async def dispatch(database_url: str, fake_url: str, offset_seconds: float, rate: str) -> None:
    """Send until nothing is due at the shifted clock, as `sms-tips dispatcher` would."""
    settings = make_settings(database_url, SMS_TIPS_SEND_RATE=rate)
    engine = build_engine(database_url)
    transport = TwilioTransport(settings, api_base_url=fake_url)
    moment = NOON_NEW_YORK + timedelta(seconds=offset_seconds)
    dispatcher = Dispatcher(
        sessions=build_sessionmaker(engine),
        transport=transport,
        settings=settings,
        clock=lambda: moment,
    )
    try:
        await dispatcher.run(until_idle=True)
    finally:
        await transport.aclose()
        engine.dispose()


if __name__ == "__main__":
    url, fake, offset, send_rate = sys.argv[1:5]
    asyncio.run(dispatch(url, fake, float(offset), send_rate))
