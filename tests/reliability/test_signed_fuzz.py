"""Thousands of validly signed generated webhooks: never a 5xx, and the records stay whole.

Each database gets scaled(5,000, 50,000) requests from a seeded generator (the seed is printed;
SMS_TIPS_RELIABILITY_SEED replays one), posted in-process straight into the ASGI app.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette

from sms_service.core.models import utcnow
from sms_service.web.twilio_signature import MAX_WEBHOOK_BYTES
from tests.reliability.figures import percentiles, record
from tests.reliability.invariants import breaches
from tests.reliability.scale import scaled
from tests.reliability.subscribers import add_subscriber, add_tip
from tests.reliability.traffic import Traffic, Webhook, phone_numbers


def seed() -> int:
    """SMS_TIPS_RELIABILITY_SEED, or a fresh seed (printed, so a failure can be replayed)."""
    given = os.environ.get("SMS_TIPS_RELIABILITY_SEED", "")
    return int(given) if given.isdigit() else random.SystemRandom().randrange(2**32)


def seed_subscribers(sessions: sessionmaker[Session], phones: list[str]) -> list[str]:
    """Make every other phone an enrolled subscriber with a tip on its way and one sent (whose
    SID the delivery reports use), so STOP and PAUSE have queued texts to cancel."""
    due, sids = utcnow() + timedelta(hours=1), []
    with sessions.begin() as session:
        for index, phone in enumerate(phones[::2]):
            caregiver = add_subscriber(session, phone=phone)
            for state in ("pending", "sending", "sent"):
                sid = f"SMreal{index:06d}{state}" if state == "sent" else None
                key = f"fuzz:{index}:{state}"
                add_tip(session, caregiver, key=key, due_at=due, state=state, provider_sid=sid)
                if sid:
                    sids.append(sid)
    return sids


@dataclass
class Tally:
    """What the requests came to: answers by status, failures, and the texts taken."""

    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)

    def count(self, webhook: Webhook, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1
        # An oversized body is refused before its signature is read (413); otherwise a bad
        # signature is refused (403), and a good one is never refused.
        oversized = len(webhook.content) > MAX_WEBHOOK_BYTES
        refusal = 413 if oversized else None if webhook.valid else 403
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code} for {webhook.content[:300]!r}")
        elif response.status_code in (403, 413) and response.status_code != refusal:
            self.failures.append(
                f"{response.status_code} for valid={webhook.valid} size={len(webhook.content)}"
            )
        elif refusal is not None and response.status_code != refusal:
            self.failures.append(f"{response.status_code}, not {refusal}, for a refused request")
        elif response.is_success and webhook.stored_sid is not None:
            self.accepted.add(webhook.stored_sid)


async def drive(app: Starlette, traffic: Traffic, total: int) -> Tally:
    """Post `total` requests one after another straight into the ASGI app (no socket, and no
    thread hop per message as starlette's TestClient makes: about twice as fast)."""
    tally = Tally()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for _ in range(total):
            webhook = traffic.next()
            sent = time.perf_counter()
            response = await client.post(
                webhook.path, content=webhook.content, headers=webhook.headers
            )
            tally.latencies.append(time.perf_counter() - sent)
            tally.count(webhook, response)
    return tally


# The long run takes several minutes per database, past the suite's 300 s per test.
@pytest.mark.timeout(scaled(300, 1800))
def test_signed_generated_requests_never_fail(
    app: Starlette, sessions: sessionmaker[Session], engine: Engine
) -> None:
    run_seed = seed()
    print(f"\nSMS_TIPS_RELIABILITY_SEED={run_seed}")
    rng = random.Random(run_seed)
    phones = phone_numbers(rng, scaled(40, 300))
    usual = [phone for phone in phones if phone.startswith("+1") and len(phone) == 12]
    traffic = Traffic(rng, phones=phones, real_sids=seed_subscribers(sessions, usual))
    total = scaled(5_000, 50_000)
    started = time.perf_counter()
    tally = asyncio.run(drive(app, traffic, total))
    wall = time.perf_counter() - started
    found = breaches(sessions, accepted_sids=tally.accepted)
    record(
        "signed_fuzz",
        database=engine.dialect.name,
        seed=run_seed,
        requests=total,
        phones=len(phones),
        texts_stored=len(tally.accepted),
        answers={str(code): count for code, count in sorted(tally.statuses.items())},
        errors_5xx=sum(code >= 500 for code in tally.statuses.elements()),
        breaches=len(found),
        wall_s=round(wall, 1),
        requests_per_s=round(total / wall),
        **percentiles(tally.latencies),
    )
    assert tally.failures == [], tally.failures[:5]
    assert found == [], found[:20]
