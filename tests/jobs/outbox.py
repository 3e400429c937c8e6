"""Outbox rows and a dispatcher wired to the fake Twilio, for the dispatcher tests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.dispatcher import Dispatcher, RetryPolicy
from sms_service.caregivers.partnership import default_partner_id
from sms_service.core.db import transaction
from sms_service.core.models import Caregiver, OutboundMessage, utcnow
from sms_service.core.settings import Settings
from sms_service.delivery.transports import TwilioTransport
from tests.fakes.twilio_server import FakeTwilio

# Monday 23 November 2026, 12:00 in New York: inside every send window. In the past, so the
# fake Twilio's real timestamps come after it, as Twilio's would after a claim.
NOON_NEW_YORK = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
_numbers = count(1000)


def add_recipient(
    session: Session,
    *,
    status: str = "active",
    timezone: str = "America/New_York",
    region: str | None = "NY",
    paused_until: datetime | None = None,
) -> Caregiver:
    """An enrolled caregiver with a fresh number."""
    caregiver = Caregiver(
        # 212-555-1000 on, into 212-556-... past 9999: a valid number at any scale.
        phone=f"+1212{5550000 + next(_numbers)}",
        language="en",
        timezone=timezone,
        region=region,
        send_weekday=0,
        send_hour=12,
        status=status,
        paused_until=paused_until,
        partner_id=default_partner_id(session, now=utcnow()),
    )
    session.add(caregiver)
    session.flush()
    return caregiver


def add_message(
    session: Session,
    caregiver: Caregiver,
    *,
    body: str | None = None,
    segments: int = 1,
    due_at: datetime = NOON_NEW_YORK - timedelta(minutes=1),
    kind: str = "tip",
) -> OutboundMessage:
    """A pending outbox row for `caregiver`, due at `due_at`."""
    number = next(_numbers)
    message = OutboundMessage(
        dedupe_key=f"test:{caregiver.id}:{number}",
        kind=kind,
        caregiver_id=caregiver.id,
        to_number=caregiver.phone,
        body=body or f"Little Moments: test tip {number}. Sing to your baby today.",
        segments=segments,
        due_at=due_at,
    )
    session.add(message)
    session.flush()
    return message


def outbox(sessions: sessionmaker[Session]) -> dict[int, OutboundMessage]:
    """Every outbox row by id, freshly read."""
    with transaction(sessions) as session:
        rows = session.scalars(select(OutboundMessage)).all()
        return {row.id: row for row in rows}


def dispatch(
    sessions: sessionmaker[Session],
    settings: Settings,
    fake: FakeTwilio,
    *,
    now: datetime = NOON_NEW_YORK,
    **options: Any,
) -> Dispatcher:
    """Run one dispatcher against the fake until nothing due is left; return it (for stats)."""

    async def run() -> Dispatcher:
        transport = TwilioTransport(
            settings,
            api_base_url=fake.url,
            timeout=options.pop("timeout", 5.0),
            max_connections=options.pop("max_connections", None),
        )
        options.setdefault("retry", RetryPolicy(max_attempts=4))
        dispatcher = Dispatcher(
            sessions=sessions,
            transport=transport,
            settings=settings,
            clock=options.pop("clock", lambda: now),
            flush_seconds=0.02,
            **options,
        )
        try:
            await dispatcher.run(until_idle=True)
        finally:
            await transport.aclose()
        return dispatcher

    return asyncio.run(run())
