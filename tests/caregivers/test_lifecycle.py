"""Every (status, event) pair of the caregiver lifecycle does what its table says, and all of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from sms_service.caregivers import lifecycle
from sms_service.caregivers.lifecycle import (
    DELETED,
    REFUSED,
    TRANSITIONS,
    Event,
    Evidence,
    LifecycleRefused,
    Status,
)
from sms_service.core.audit import Actor
from sms_service.core.db import transaction
from sms_service.core.models import Caregiver, Child, ConsentEvent, OutboundMessage, utcnow
from tests.helpers.people import add_caregiver

NOW = utcnow()
ADMIN = Actor(name="ada@example.org", role="admin")
STOP = Evidence(source="keyword", text="STOP", keyword="STOP")
START = Evidence(source="keyword", text="START", keyword="START")


def _apply(session: Session, caregiver: Caregiver, event: Event) -> None:
    """Make `event` happen to `caregiver` the way the service does."""
    actions: dict[Event, Callable[[], object]] = {
        Event.OPT_OUT: lambda: lifecycle.opt_out(session, caregiver, evidence=STOP, now=NOW),
        Event.OPT_IN: lambda: lifecycle.opt_in(session, caregiver, evidence=START, now=NOW),
        Event.ENROLL: lambda: lifecycle.start_enrollment(
            session, caregiver, now=NOW, evidence=START
        ),
        Event.FINISH_ENROLLMENT: lambda: lifecycle.finish_enrollment(
            session, caregiver, evidence=Evidence(source="enrollment", text="signed up"), now=NOW
        ),
        Event.PAUSE: lambda: lifecycle.pause(
            session, caregiver, until=NOW + timedelta(weeks=2), now=NOW
        ),
        Event.RESUME: lambda: lifecycle.resume(session, caregiver, now=NOW),
        Event.PAUSE_ENDED: lambda: _end_pause(session, caregiver),
        Event.ADD_CHILD: lambda: lifecycle.add_child(session, caregiver, now=NOW),
        Event.COMPLETE: lambda: _age_out(session, caregiver),
        Event.MARK_UNDELIVERABLE: lambda: lifecycle.mark_undeliverable(
            session, caregiver.id, error_code="30006", now=NOW
        ),
        Event.DELETE: lambda: lifecycle.delete(session, caregiver, actor=ADMIN),
    }
    actions[event]()


def _end_pause(session: Session, caregiver: Caregiver) -> None:
    caregiver.paused_until = NOW - timedelta(minutes=1)
    session.flush()
    lifecycle.end_pauses(session, now=NOW)


def _age_out(session: Session, caregiver: Caregiver) -> None:
    session.execute(
        update(Child).where(Child.caregiver_id == caregiver.id).values(status="completed")
    )
    lifecycle.complete_caregivers(session, [caregiver.id], now=NOW)


STOPPING = (Status.OPTED_OUT, Status.PAUSED, Status.UNDELIVERABLE)


def _caregiver_in(session: Session, status: Status) -> Caregiver:
    """A caregiver as the service leaves one in `status`: with a text waiting in the outbox
    unless the status stops texts (the move into it cancelled them)."""
    caregiver = add_caregiver(session, status=status)
    if status is Status.COMPLETED:
        for child in caregiver.children:
            child.status = "completed"
    if status is Status.PAUSED:
        caregiver.paused_until = NOW + timedelta(days=3)
    if status is Status.OPTED_OUT:
        caregiver.opted_out_at = NOW - timedelta(days=3)
    if status is Status.ENROLLING:
        caregiver.enrolled_at = None
        caregiver.conversation_step, caregiver.conversation_data = "schedule", {"mode": "enroll"}
    if status in STOPPING:
        session.flush()
        return caregiver
    session.add(
        OutboundMessage(
            dedupe_key=f"test:{caregiver.id}",
            kind="tip",
            caregiver_id=caregiver.id,
            to_number=caregiver.phone,
            body="Little Moments: sing a song together today.",
            segments=1,
            due_at=NOW + timedelta(hours=1),
        )
    )
    session.flush()
    return caregiver


PAIRS = [(status, event) for status in Status for event in Event]


def test_the_table_answers_every_event_for_every_status() -> None:
    assert set(TRANSITIONS) == set(Status)
    for status, moves in TRANSITIONS.items():
        assert set(moves) == set(Event), status


@pytest.mark.parametrize(("status", "event"), PAIRS, ids=[f"{s}-{e}" for s, e in PAIRS])
def test_each_transition_does_what_the_table_says(
    sessions: sessionmaker[Session], status: Status, event: Event
) -> None:
    expected = TRANSITIONS[status][event]
    with transaction(sessions) as session:
        caregiver = _caregiver_in(session, status)
        caregiver_id = caregiver.id
    with transaction(sessions) as session:
        caregiver = session.get_one(Caregiver, caregiver_id)
        if expected == REFUSED:
            with pytest.raises(LifecycleRefused):
                _apply(session, caregiver, event)
        else:
            _apply(session, caregiver, event)
    with transaction(sessions) as session:
        caregiver_after = session.get(Caregiver, caregiver_id)
        if expected == DELETED:
            assert caregiver_after is None
            assert session.scalars(select(OutboundMessage)).all() == []
            return
        assert caregiver_after is not None
        assert caregiver_after.status == (status if expected == REFUSED else expected)
        for tip in session.scalars(select(OutboundMessage)):
            # A move into a status that stops texts cancels what was waiting; nothing else does.
            assert tip.state == ("cancelled" if caregiver_after.status in STOPPING else "pending")
        if caregiver_after.status != Status.PAUSED and event is not Event.PAUSE_ENDED:
            assert caregiver_after.paused_until is None
        if event is Event.OPT_OUT:
            assert caregiver_after.conversation_step is None
            assert caregiver_after.opted_out_at is not None
            kinds = session.scalars(
                select(ConsentEvent.kind).where(ConsentEvent.caregiver_id == caregiver_id)
            ).all()
            assert "opt_out" in kinds


def test_a_completed_family_is_not_reactivated_when_a_pause_would_have_ended(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        caregiver = _caregiver_in(session, Status.COMPLETED)
        caregiver.paused_until = NOW - timedelta(days=1)  # left over from an old pause
        caregiver_id = caregiver.id
    with transaction(sessions) as session:
        assert lifecycle.end_pauses(session, now=NOW) == 0
    with sessions() as session:
        assert session.get_one(Caregiver, caregiver_id).status == Status.COMPLETED


def test_opt_in_without_anything_to_resume_enrolls_afresh(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        caregiver = add_caregiver(session, status=Status.OPTED_OUT, child_age_days=None)
        assert lifecycle.opt_in(session, caregiver, evidence=START, now=NOW) is Status.ENROLLING
        assert caregiver.status == Status.ENROLLING


def test_enrolling_again_after_an_opt_out_needs_the_words_that_asked_for_it(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        caregiver = add_caregiver(session, status=Status.OPTED_OUT)
        with pytest.raises(LifecycleRefused):
            lifecycle.start_enrollment(session, caregiver, now=NOW)
        lifecycle.start_enrollment(session, caregiver, now=NOW, evidence=START)
        events = session.scalars(select(ConsentEvent.kind)).all()
        assert events == ["opt_in"]
