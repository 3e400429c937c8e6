"""What the sending-side proofs share: a replayable random source, counts per number at the fake
Twilio, and figures appended to .reliability/sending.jsonl for the closing doc to quote."""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.fakes.twilio_server import FakeTwilio

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / ".reliability" / "sending.jsonl"
SEED_VARIABLE = "SMS_TIPS_RELIABILITY_SEED"


def seeded(proof: str) -> tuple[int, random.Random]:
    """A seed (SMS_TIPS_RELIABILITY_SEED, or a fresh one) and a random source from it; the seed
    is printed, and recorded with the figures, so a failing run can be replayed."""
    raw = os.environ.get(SEED_VARIABLE)
    seed = int(raw) if raw else random.SystemRandom().randrange(2**32)
    print(f"{proof}: {SEED_VARIABLE}={seed}")
    return seed, random.Random(seed)


def record_figures(proof: str, database_url: str, seed: int, **figures: object) -> None:
    """Print one run's figures and append them, stamped, as a JSON line to FIGURES."""
    line = {
        "proof": proof,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": make_url(database_url).get_backend_name(),
        "seed": seed,
        **figures,
    }
    print(json.dumps(line))
    FIGURES.parent.mkdir(exist_ok=True)
    with FIGURES.open("a") as out:
        out.write(json.dumps(line) + "\n")


def received(fake: FakeTwilio) -> Counter[str]:
    """Messages Twilio created, per recipient: what the families got."""
    return Counter(message["to"] for message in fake.messages)


def creates(fake: FakeTwilio) -> Counter[str]:
    """Create requests (answered or not) per recipient: send attempts that reached Twilio."""
    return Counter(r.form["To"] for r in fake.requests if r.method == "POST" and "To" in r.form)


def lookups(fake: FakeTwilio) -> Counter[str]:
    """Message list queries per recipient: reconciliations."""
    return Counter(r.query["To"] for r in fake.requests if r.method == "GET" and "To" in r.query)


def duplicates(fake: FakeTwilio) -> int:
    """Texts Twilio created beyond the first for their recipient."""
    return sum(count - 1 for count in received(fake).values() if count > 1)
