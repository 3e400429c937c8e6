"""Synthetic caregivers for the planning benchmark: 1-3 children each and weeks of send history.

Everyone gets send_weekday Monday and a send hour from 08:00 to 11:00 local, across US time
zones and states (Florida and other 20:00 states included), so that at BENCH_NOW (Monday
2026-03-02 23:00 UTC: 18:00 in New York, 13:00 in Honolulu) every active caregiver is due:
the measured run is the peak a real Monday spreads over the day. About 92% are active, 4%
paused, 4% opted out; 8% of the children are expected (prenatal tips); a quarter have no name
and some Spanish names carry accents outside GSM-7. Each child already received the tips of
the last 0-6 weeks (picked with content.sequence, as the planner would have), so the
"unseen" check has real history to look through.

Rows are bulk-loaded: COPY on PostgreSQL, executemany in large transactions on SQLite.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from content.library import load_library
from content.sequence import Selector
from sms_service.caregivers.partnership import default_partner_id
from sms_service.core import outbox
from sms_service.core.db import build_sessionmaker, transaction
from sms_service.core.models import Partner
from sms_service.tips.sync import sync_library

BENCH_NOW = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)
CHUNK = 20_000  # caregivers generated and written at a time (bounded memory)

# (time zone, state, weight)
PLACES = [
    ("America/New_York", "NY", 14), ("America/New_York", "FL", 8), ("America/New_York", "NJ", 4),
    ("America/New_York", "MD", 3), ("America/New_York", "PA", 6), ("America/New_York", "GA", 5),
    ("America/Chicago", "TX", 12), ("America/Chicago", "IL", 6), ("America/Chicago", "OK", 2),
    ("America/Chicago", "MS", 2), ("America/Denver", "CO", 3), ("America/Phoenix", "AZ", 3),
    ("America/Los_Angeles", "CA", 18), ("America/Los_Angeles", "WA", 4),
    ("Pacific/Honolulu", "HI", 1), ("America/Anchorage", "AK", 1), ("America/New_York", None, 2),
]  # fmt: skip
NAMES = {
    "en": ["Mia", "Noah", "Ava", "Liam", "Emma", "Olivia", "Elijah", "James", "Amelia", "Luna",
           "Zoë", "Mary Jane"],
    "es": ["Sofía", "Mateo", "Valentina", "Santiago", "Camila", "Lucía", "José", "Martín",
           "Ximena", "Ana", "Begoña", "Iker"],
}  # fmt: skip


@dataclass(frozen=True)
class Loaded:
    """How much was generated."""

    caregivers: int
    children: int
    history: int


def _sqlite_time(moment: datetime) -> str:
    # The text form SQLAlchemy's DateTime stores on SQLite.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


@functools.cache
def _selectors() -> dict[str, Selector[Any]]:
    library = load_library()
    return {language: Selector(tips) for language, tips in library.tips.items()}


@functools.cache
def _history(language: str, age_now: int, weeks: int) -> tuple[str, ...]:
    """The tips a child of `age_now` weeks got in the last `weeks` weeks, oldest first."""
    selector = _selectors()[language]
    seen: list[str] = []
    for back in range(weeks, 0, -1):
        tip = selector.next(age_weeks=age_now - back, seen_ids=seen)
        if tip is not None:
            seen.append(tip.id)
    return tuple(seen)


def _generate(
    first_id: int,
    count: int,
    rng: random.Random,
    now: datetime,
    ids: dict[str, int],
    partners: list[int],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    zones, regions, weights = zip(*[(z, r, w) for z, r, w in PLACES], strict=True)
    places = list(zip(zones, regions, strict=True))
    caregivers: list[tuple[Any, ...]] = []
    children: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []
    today = now.date()
    for caregiver_id in range(first_id, first_id + count):
        timezone, region = rng.choices(places, weights)[0]
        language = "es" if rng.random() < 0.2 else "en"
        roll = rng.random()
        status = "active" if roll < 0.92 else "paused" if roll < 0.96 else "opted_out"
        paused_until = now + timedelta(days=10) if status == "paused" else None
        phone = f"+12{caregiver_id:09d}"
        caregivers.append(
            (caregiver_id, phone, language, timezone, region, 0, rng.randint(8, 11), status,
             paused_until, now - timedelta(weeks=7), partners[caregiver_id % len(partners)])
        )  # fmt: skip
        for _ in range(rng.choices((1, 2, 3), (50, 35, 15))[0]):
            ids["child"] += 1
            child_id = ids["child"]
            expected = rng.random() < 0.08
            age = rng.randint(-12, -1) if expected else rng.randint(0, 155)
            born = today - timedelta(days=7 * age + rng.randint(0, 6))
            name = None if rng.random() < 0.25 else rng.choice(NAMES[language])
            children.append((child_id, caregiver_id, name, born, expected))
            for back, tip_id in enumerate(
                reversed(_history(language, age, rng.randint(0, 6))), start=1
            ):
                ids["message"] += 1
                sent = now - timedelta(weeks=back)
                week = outbox.week_label(day=sent.date())
                key = outbox.tip_key(caregiver_id=caregiver_id, child_id=child_id, week=week)
                history.append((ids["message"], key, caregiver_id, child_id, tip_id, phone, sent))
    return caregivers, children, history


def _chunks(
    total: int, seed: int, now: datetime, partners: list[int]
) -> Iterator[tuple[list[Any], ...]]:
    rng = random.Random(seed)
    ids = {"child": 0, "message": 0}
    for first in range(1, total + 1, CHUNK):
        yield _generate(first, min(CHUNK, total - first + 1), rng, now, ids, partners)


CAREGIVER_COLUMNS = (
    "id, phone, language, timezone, region, send_weekday, send_hour, status, paused_until, "
    "enrolled_at, partner_id, conversation_data, created_at, updated_at"
)
CHILD_COLUMNS = "id, caregiver_id, name, birth_date, is_expected, status, created_at"
HISTORY_COLUMNS = (
    "id, dedupe_key, kind, caregiver_id, child_id, tip_id, tip_version, to_number, body, "
    "segments, state, due_at, attempts, sent_at, delivered_at, created_at, updated_at"
)
HISTORY_BODY = "Little Moments: (an earlier weekly tip)"


# Families spread over the default partner and three others (two with their own sender), so
# the planner writes each text's sender as it does in a network of partners.
PARTNERS = (("eastside", "+12125550188"), ("westside", "MG" + "0f" * 16), ("northside", None))


def _partners(session: Session, now: datetime) -> list[int]:
    rows = [
        Partner(slug=slug, name=f"{slug.title()} Center", sender=sender, created_at=now,
                updated_at=now)
        for slug, sender in PARTNERS
    ]  # fmt: skip
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


def populate(
    engine: Engine, *, caregivers: int, seed: int = 7, now: datetime = BENCH_NOW
) -> Loaded:
    """Load the tip library and `caregivers` synthetic caregivers into an empty database."""
    with transaction(build_sessionmaker(engine)) as session:
        sync_library(session, load_library())
        partners = [default_partner_id(session, now=now), *_partners(session, now)]
    totals = [0, 0, 0]
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    try:
        for batch in _chunks(caregivers, seed, now, partners):
            if postgres:
                _copy(raw, batch, now)
            else:
                _executemany(raw, batch, now)
            raw.commit()
            for index, rows in enumerate(batch):
                totals[index] += len(rows)
        cursor = raw.cursor()
        if postgres:
            for table in ("caregiver", "child", "outbound_message"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    return Loaded(*totals)


def _copy(raw: Any, batch: tuple[list[Any], ...], now: datetime) -> None:
    caregivers, children, history = batch
    cursor = raw.cursor()
    with cursor.copy(f"COPY caregiver ({CAREGIVER_COLUMNS}) FROM STDIN") as copy:
        for row in caregivers:
            copy.write_row((*row, "{}", now, now))
    with cursor.copy(f"COPY child ({CHILD_COLUMNS}) FROM STDIN") as copy:
        for row in children:
            copy.write_row((*row, "active", now))
    with cursor.copy(f"COPY outbound_message ({HISTORY_COLUMNS}) FROM STDIN") as copy:
        for message_id, key, caregiver_id, child_id, tip_id, phone, sent in history:
            copy.write_row(
                (message_id, key, "tip", caregiver_id, child_id, tip_id, 1, phone, HISTORY_BODY,
                 1, "delivered", sent, 1, sent, sent, sent, sent)
            )  # fmt: skip


def _executemany(raw: Any, batch: tuple[list[Any], ...], now: datetime) -> None:
    caregivers, children, history = batch
    stamp = _sqlite_time(now)
    cursor = raw.cursor()
    cursor.execute("BEGIN")
    cursor.executemany(
        f"INSERT INTO caregiver ({CAREGIVER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (*row[:8], _sqlite_time(row[8]) if row[8] else None, _sqlite_time(row[9]), row[10],
             "{}", stamp, stamp)
            for row in caregivers
        ],
    )  # fmt: skip
    cursor.executemany(
        f"INSERT INTO child ({CHILD_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
        [(cid, cg, name, born.isoformat(), int(exp), "active", stamp)
         for cid, cg, name, born, exp in children],
    )  # fmt: skip
    cursor.executemany(
        f"INSERT INTO outbound_message ({HISTORY_COLUMNS}) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (mid, key, "tip", cg, ch, tip, 1, phone, HISTORY_BODY, 1, "delivered", s, 1, s, s, s, s)
            for mid, key, cg, ch, tip, phone, sent in history
            for s in (_sqlite_time(sent),)
        ],
    )  # fmt: skip


def describe(loaded: Loaded) -> str:
    """One line for the benchmark's output."""
    return (
        f"{loaded.caregivers:,} caregivers, {loaded.children:,} children, "
        f"{loaded.history:,} earlier tips in the outbox"
    )
