"""A STOP (or PAUSE) is final the moment it is committed, even for a tip a dispatcher has already
claimed and is waiting to send: nothing reaches the family after it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sms_service.caregivers import lifecycle
from sms_service.caregivers.lifecycle import Evidence
from sms_service.core.db import transaction
from sms_service.core.models import Caregiver
from sms_service.core.settings import Settings
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.settings import make_settings
from tests.jobs.outbox import add_message, add_recipient, dispatch, outbox

FAMILIES = 8
STOP = Evidence(source="keyword", text="STOP", keyword="STOP")


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Two texts a second: the backlog waits on the rate limiter while its rows are claimed.
    return make_settings(database_url, SMS_TIPS_SEND_RATE="2", SMS_TIPS_DISPATCH_CONCURRENCY="10")


def wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def on_their_way(sessions: sessionmaker[Session], caregiver_id: int) -> int:
    with transaction(sessions) as session:
        return lifecycle.texts_on_their_way(session, caregiver_id)


@pytest.mark.parametrize("how", ["stop", "pause"])
def test_nothing_leaves_after_the_stop_of_a_family_whose_tip_was_claimed(
    sessions: sessionmaker[Session], settings: Settings, fake_twilio: FakeTwilio, how: str
) -> None:
    with transaction(sessions) as session:
        people = [add_recipient(session) for _ in range(FAMILIES)]
        for person in people:
            add_message(session, person)
        numbers = {person.id: person.phone for person in people}
    running = threading.Thread(target=dispatch, args=(sessions, settings, fake_twilio))
    running.start()
    try:
        wait_for(lambda: len(fake_twilio.messages) >= 1)
        # Every family not yet texted says STOP (or PAUSE) now, while rows are claimed.
        with transaction(sessions) as session:
            reached = {message["to"] for message in fake_twilio.messages}
            leaving = [cid for cid, number in numbers.items() if number not in reached]
            for caregiver_id in leaving:
                caregiver = session.get_one(Caregiver, caregiver_id)
                if how == "stop":
                    lifecycle.opt_out(session, caregiver, evidence=STOP, now=datetime.now(UTC))
                else:
                    until = datetime.now(UTC) + timedelta(weeks=2)
                    lifecycle.pause(session, caregiver, until=until, now=datetime.now(UTC))
        # As the webhook does: the reply "You're unsubscribed" waits for the texts that passed
        # their last check before the STOP committed (they are on their way), then goes out.
        wait_for(lambda: not any(on_their_way(sessions, cid) for cid in leaving))
        answered = datetime.now(UTC)
    finally:
        running.join(timeout=60)
    assert not running.is_alive()
    assert len(leaving) >= FAMILIES - 3, "the test needs a backlog of claimed texts"
    late = [
        request
        for request in fake_twilio.requests
        if request.form.get("To") in {numbers[cid] for cid in leaving} and request.at >= answered
    ]
    assert late == []
    # What the STOP found already on its way went out before the reply; the rest is cancelled.
    before = {request.form.get("To") for request in fake_twilio.requests if request.at < answered}
    rows = outbox(sessions)
    for row in rows.values():
        if row.caregiver_id in leaving:
            assert row.state == ("sent" if numbers[row.caregiver_id] in before else "cancelled")


def test_a_claim_waits_for_no_more_than_about_two_seconds_of_sending(
    sessions: sessionmaker[Session], settings: Settings, fake_twilio: FakeTwilio
) -> None:
    with transaction(sessions) as session:
        for _ in range(FAMILIES):
            add_message(session, add_recipient(session))
    seen: list[int] = []
    running = threading.Thread(target=dispatch, args=(sessions, settings, fake_twilio))
    running.start()
    try:
        while running.is_alive():
            claimed = [r for r in outbox(sessions).values() if r.state == "sending"]
            seen.append(len(claimed))
            time.sleep(0.05)
    finally:
        running.join(timeout=60)
    # 2 texts a second, claimed two seconds ahead: never more than 4 rows held at once.
    assert max(seen) <= 4
    assert len(fake_twilio.messages) == FAMILIES
