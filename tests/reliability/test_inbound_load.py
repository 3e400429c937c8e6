"""Load: parents enrolling at once through the real server (`sms-tips web` under uvicorn).

scaled(40, 200) phones each send their texts in order, the next after the previous answer, as a
parent does; up to 50 requests are in flight at a time.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.models import Caregiver, CaregiverStatus
from tests.helpers.settings import service_environ
from tests.helpers.texting import new_sid, replies
from tests.reliability.figures import percentiles, record
from tests.reliability.invariants import breaches
from tests.reliability.processes import web_server
from tests.reliability.scale import scaled
from tests.reliability.traffic import INBOUND_PATH, sign, text_form

IN_FLIGHT = 50
ENROLLED = "You're signed up!"


def walk(rng: random.Random) -> list[str]:
    """One parent's texts: the four answers that enroll, then a fifth of everyday life."""
    return [
        rng.choice(["JOIN", "join"]),
        rng.choice(["Maya", "Leo", "Ana María"]),
        rng.choice(["8 months", "3 weeks", "due 9/1"]),
        rng.choice(["1", "2", "3", "4", "5", "6"]),
        rng.choice(["thank you!", "HELP", "TIME"]),
    ]


class Run:
    """What the parents saw: latencies, answers by status, and the texts the service took."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.accepted: set[str] = set()
        self.enrolled: set[str] = set()


async def parent(
    client: httpx.AsyncClient, gate: asyncio.Semaphore, run: Run, number: str, texts: list[str]
) -> None:
    for body in texts:
        sid = new_sid()
        webhook = sign(INBOUND_PATH, text_form(number, body, sid))
        async with gate:
            sent = time.perf_counter()
            try:
                response = await client.post(
                    webhook.path, content=webhook.content, headers=webhook.headers
                )
            except httpx.HTTPError as error:
                run.errors.append(f"{number} {body!r}: {type(error).__name__}")
                return
            run.latencies.append(time.perf_counter() - sent)
        if response.status_code != 200:
            run.errors.append(f"{number} {body!r}: {response.status_code} {response.text[:200]}")
            return  # a parent whose text failed stops here; Twilio would retry it
        run.accepted.add(sid)
        if any(ENROLLED in reply for reply in replies(response.text)):
            run.enrolled.add(number)


async def drive(base_url: str, walks: dict[str, list[str]]) -> Run:
    run, gate = Run(), asyncio.Semaphore(IN_FLIGHT)
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        await asyncio.gather(
            *(parent(client, gate, run, number, texts) for number, texts in walks.items())
        )
    return run


def test_parents_enrolling_at_once_all_get_through(
    database_url: str, engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    rng = random.Random(20261202)
    phones = scaled(40, 200)
    walks = {f"+1{rng.choice(['212', '415', '305'])}555{n:04d}": walk(rng) for n in range(phones)}
    requests = sum(len(texts) for texts in walks.values())
    with web_server(service_environ(database_url), cwd=tmp_path) as base_url:
        started = time.perf_counter()
        run = asyncio.run(drive(base_url, walks))
        wall = time.perf_counter() - started

    found = breaches(sessions, accepted_sids=run.accepted)
    with sessions() as session:
        active = set(
            session.scalars(
                select(Caregiver.phone).where(Caregiver.status == CaregiverStatus.ACTIVE)
            )
        )
    record(
        "inbound_load",
        database=engine.dialect.name,
        requests=requests,
        phones=phones,
        in_flight=IN_FLIGHT,
        answered=len(run.latencies),
        errors=len(run.errors),
        enrolled=len(run.enrolled),
        wall_s=round(wall, 1),
        requests_per_s=round(len(run.latencies) / wall),
        **percentiles(run.latencies),
    )
    assert run.errors == [], run.errors[:10]
    assert found == [], found[:20]
    assert run.enrolled == active == set(walks)
