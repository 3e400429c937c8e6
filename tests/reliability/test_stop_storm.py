"""A STOP storm: while a backlog of tips goes out at a low rate, a fifth of the families text STOP
through the signed webhook, many of them while their tip is claimed and about to leave.

What it proves: no text is decided after its family's STOP committed, and none reaches Twilio
after the STOP's webhook answered "no more messages". The last check (jobs/last_check.py) is a
write that serializes with the STOP's cancel: a text may still reach Twilio a moment after the
commit only when its check had passed before it (its `checked_at` is earlier than the commit),
and the webhook waits for such texts before it answers. Those are counted ("checked before the
commit, arrived after") and recorded with the figures."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.db import build_engine, transaction
from sms_service.web.app import create_app
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.settings import make_settings
from tests.helpers.texting import Phone
from tests.jobs.outbox import NOON_NEW_YORK, add_message, add_recipient, dispatch, outbox
from tests.reliability.scale import scaled
from tests.reliability.sending import record_figures, seeded

FAMILIES = scaled(500, 5000)
STOPPING = scaled(100, 1000)
RATE = scaled(40, 50)  # texts a second: the backlog takes FAMILIES / RATE seconds to send
# A STOP comes this many seconds of sending before its family's turn (negative: after it): half
# anywhere while the tip is claimed (claims run two seconds ahead), half right as it leaves.
LEADS = ((-0.2, 2.5), (-0.05, 0.1))


@dataclass(frozen=True)
class Stop:
    """One STOP request, in time.monotonic() seconds."""

    number: str
    ahead: int  # how many turns before this family's Twilio still had to go
    began: float
    committed: float  # the webhook's transaction committed (the opt-out is final)
    answered: float  # the TwiML reply came back


@contextmanager
def commits_of(engine: Engine) -> Iterator[list[float]]:
    """The moments transactions on `engine` committed, while the block runs."""
    moments: list[float] = []

    def committed(session: Session) -> None:
        if session.get_bind() is engine:
            moments.append(time.monotonic())

    event.listen(Session, "after_commit", committed)
    try:
        yield moments
    finally:
        event.remove(Session, "after_commit", committed)


def test_no_text_reaches_a_family_after_its_stop_was_committed(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    seed, rng = seeded("stop storm")
    settings = make_settings(database_url, SMS_TIPS_SEND_RATE=str(RATE))
    with transaction(sessions) as session:
        numbers = [add_message(session, add_recipient(session)).to_number for _ in range(FAMILIES)]
    # Rows go out in id order, so a number's place in `numbers` is its turn.
    # Each STOP's moment, as the turn Twilio has got to by then; taken in that order. (Not the
    # count of texts: cancelled tips are skipped, so the count falls behind the turn.)
    turns = rng.sample(range(FAMILIES), STOPPING)
    moments = sorted((turn - rng.uniform(*rng.choice(LEADS)) * RATE, turn) for turn in turns)
    web_engine = build_engine(database_url)  # the webhook's own, so its commits can be told apart
    stops: list[Stop] = []
    started = time.monotonic()

    with (
        FakeTwilio(latency=0.01) as fake,
        TestClient(create_app(settings, engine=web_engine)) as client,
        commits_of(web_engine) as commits,
    ):
        turn_of = {number: turn for turn, number in enumerate(numbers)}
        reached = [-1]  # the latest turn Twilio has got

        def reach(message: dict[str, Any]) -> None:
            reached[0] = max(reached[0], turn_of[message["to"]])

        fake.on_create = reach
        # The dispatcher's clock runs in real time from NOON_NEW_YORK (inside every send
        # window), so a row's checked_at tells the monotonic moment of its check.
        clock_zero = time.monotonic()

        def clock() -> datetime:
            return NOON_NEW_YORK + timedelta(seconds=time.monotonic() - clock_zero)

        sending = threading.Thread(
            target=dispatch, args=(sessions, settings, fake), kwargs={"clock": clock}
        )
        sending.start()
        try:
            for due, turn in moments:
                while reached[0] < due and sending.is_alive():
                    time.sleep(0.002)  # waiting for the family's turn, not for the race
                ahead = turn - reached[0]
                began = time.monotonic()
                assert Phone(client, numbers[turn]).text("STOP") is not None
                answered = time.monotonic()
                # The first commit is the STOP's (the webhook then only reads, waiting for
                # texts on their way).
                committed = min(moment for moment in commits if began <= moment <= answered)
                stops.append(Stop(numbers[turn], ahead, began, committed, answered))
        finally:
            sending.join(timeout=600)
        creates = [r for r in fake.requests if r.method == "POST"]
        assert fake.violations == []
    web_engine.dispose()

    stop_of = {stop.number: stop for stop in stops}
    to_stopped = [r for r in creates if r.form["To"] in stop_of]
    late = [r for r in to_stopped if r.received > stop_of[r.form["To"]].committed]
    after_answer = [r for r in late if r.received > stop_of[r.form["To"]].answered]
    during = [r for r in to_stopped if stop_of[r.form["To"]].began <= r.received and r not in late]
    rows = {row.to_number: row for row in outbox(sessions).values() if row.kind == "tip"}

    def checked(number: str) -> float:
        """The monotonic moment the row to `number` passed its last check."""
        checked_at = rows[number].checked_at
        assert checked_at is not None, number
        return clock_zero + (checked_at - NOON_NEW_YORK).total_seconds()

    checked_late = [r for r in late if checked(r.form["To"]) >= stop_of[r.form["To"]].committed]
    record_figures(
        "stop_storm",
        database_url,
        seed,
        families=FAMILIES,
        stops=len(stops),
        rate=RATE,
        sent=len(creates),
        sent_to_stopped_before_stop=len(to_stopped) - len(late),
        sent_while_stop_in_flight=len(during),
        cancelled=sum(rows[stop.number].state == "cancelled" for stop in stops),
        checked_before_commit_arrived_after=len(late),
        checked_after_commit=len(checked_late),
        late_after_reply=len(after_answer),
        late_ms=[round((r.received - stop_of[r.form["To"]].committed) * 1000, 1) for r in late],
        checked_ms_before_commit=[
            round((stop_of[r.form["To"]].committed - checked(r.form["To"])) * 1000, 1) for r in late
        ],
        stop_ahead_seconds_mean=round(sum(s.ahead for s in stops) / len(stops) / RATE, 2),
        stop_ms_mean=round(sum(s.answered - s.began for s in stops) / len(stops) * 1000, 1),
        seconds=round(time.monotonic() - started, 1),
    )
    assert not sending.is_alive()
    # Nothing after the STOP's answer; after its commit only texts checked before it.
    assert after_answer == []
    assert checked_late == []
    # Everyone else got their tip; a stopped family's tip went before the STOP or not at all.
    for number, row in rows.items():
        if number in stop_of:
            assert row.state in ("sent", "cancelled"), row
        else:
            assert row.state == "sent", row
    assert len(creates) == len({r.form["To"] for r in creates})
