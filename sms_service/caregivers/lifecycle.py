"""The caregiver lifecycle: every status change goes through here, with everything it implies.

`TRANSITIONS` is the whole state machine: for each status and event, the status that follows,
or REFUSED (nothing changes and the caller explains why), or DELETED (the row is gone). Each
transition function below reads its move from that table and does all the move implies: it
cancels the texts still waiting in the outbox (pending, or claimed by a dispatcher but not yet
past their last check), clears a conversation under way, records the consent event, and writes
the audit entry when a person or a provider made the change. Set-based twins (`end_pauses`,
`complete_caregivers`) serve the jobs that move thousands at once; they read the same table.

Functions take a session and do not commit: the caller owns the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Literal, cast

from sqlalchemy import Connection, CursorResult, and_, exists, func, or_, select, update
from sqlalchemy import delete as sa_delete
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from sms_service.caregivers import suppression
from sms_service.caregivers.consent import record_consent
from sms_service.caregivers.errors import CaregiverError
from sms_service.caregivers.partnership import default_partner_id
from sms_service.core.audit import Actor
from sms_service.core.models import (
    AuditLog,
    Caregiver,
    CaregiverStatus,
    Child,
    InboundMessage,
    OutboundMessage,
    Partner,
    SurveyRun,
)
from sms_service.core.phones import mask

logger = logging.getLogger(__name__)

Status = CaregiverStatus


class Event(StrEnum):
    """Something that may change a caregiver's status."""

    OPT_OUT = "opt_out"  # STOP, a carrier's 21610, or staff recording a request
    OPT_IN = "opt_in"  # START (or the program keyword after STOP)
    ENROLL = "enroll"  # the enrollment conversation begins or starts over
    FINISH_ENROLLMENT = "finish_enrollment"  # the last enrollment answer came in
    PAUSE = "pause"
    RESUME = "resume"
    PAUSE_ENDED = "pause_ended"  # the planner found paused_until has passed
    ADD_CHILD = "add_child"  # a child was added after enrollment
    COMPLETE = "complete"  # the last active child aged out
    MARK_UNDELIVERABLE = "mark_undeliverable"  # the carrier says the number cannot get texts
    DELETE = "delete"  # personal data erased on request


REFUSED: Final = "refused"
DELETED: Final = "deleted"
Target = Status | Literal["refused", "deleted"]

_S, _E = Status, Event
# Every status answers every event; the lifecycle test walks all of these pairs.
TRANSITIONS: Mapping[Status, Mapping[Event, Target]] = {
    _S.INVITED: {
        # Staff sent one invitation; only the parent's own text (the keyword, START) moves them.
        _E.OPT_OUT: _S.OPTED_OUT,
        _E.OPT_IN: _S.ENROLLING,  # START: the opt-in, then the enrollment questions
        _E.ENROLL: _S.ENROLLING,  # the program keyword: recorded as an opt-in
        _E.FINISH_ENROLLMENT: REFUSED,
        _E.PAUSE: REFUSED,
        _E.RESUME: REFUSED,
        _E.PAUSE_ENDED: _S.INVITED,
        _E.ADD_CHILD: _S.INVITED,
        _E.COMPLETE: _S.INVITED,
        _E.MARK_UNDELIVERABLE: _S.UNDELIVERABLE,  # the invitation bounced
        _E.DELETE: DELETED,
    },
    _S.ENROLLING: {
        _E.OPT_OUT: _S.OPTED_OUT,
        _E.OPT_IN: _S.ENROLLING,
        _E.ENROLL: _S.ENROLLING,
        _E.FINISH_ENROLLMENT: _S.ACTIVE,
        _E.PAUSE: REFUSED,
        _E.RESUME: REFUSED,
        _E.PAUSE_ENDED: _S.ENROLLING,
        _E.ADD_CHILD: _S.ENROLLING,
        _E.COMPLETE: _S.ENROLLING,
        _E.MARK_UNDELIVERABLE: _S.UNDELIVERABLE,
        _E.DELETE: DELETED,
    },
    _S.ACTIVE: {
        _E.OPT_OUT: _S.OPTED_OUT,
        _E.OPT_IN: _S.ACTIVE,
        _E.ENROLL: _S.ENROLLING,
        _E.FINISH_ENROLLMENT: REFUSED,
        _E.PAUSE: _S.PAUSED,
        _E.RESUME: _S.ACTIVE,
        _E.PAUSE_ENDED: _S.ACTIVE,
        _E.ADD_CHILD: _S.ACTIVE,
        _E.COMPLETE: _S.COMPLETED,
        _E.MARK_UNDELIVERABLE: _S.UNDELIVERABLE,
        _E.DELETE: DELETED,
    },
    _S.PAUSED: {
        _E.OPT_OUT: _S.OPTED_OUT,
        _E.OPT_IN: _S.ACTIVE,
        _E.ENROLL: _S.ENROLLING,
        _E.FINISH_ENROLLMENT: REFUSED,
        _E.PAUSE: _S.PAUSED,  # a new PAUSE sets a new end
        _E.RESUME: _S.ACTIVE,
        _E.PAUSE_ENDED: _S.ACTIVE,
        _E.ADD_CHILD: _S.PAUSED,
        _E.COMPLETE: _S.COMPLETED,
        _E.MARK_UNDELIVERABLE: _S.UNDELIVERABLE,
        _E.DELETE: DELETED,
    },
    _S.OPTED_OUT: {
        # Final until the caregiver opts in again themselves: nothing else moves them.
        _E.OPT_OUT: _S.OPTED_OUT,
        _E.OPT_IN: _S.ACTIVE,
        _E.ENROLL: _S.ENROLLING,  # the program keyword: recorded as an opt-in
        _E.FINISH_ENROLLMENT: REFUSED,
        _E.PAUSE: REFUSED,
        _E.RESUME: REFUSED,
        _E.PAUSE_ENDED: _S.OPTED_OUT,
        _E.ADD_CHILD: _S.OPTED_OUT,
        _E.COMPLETE: _S.OPTED_OUT,
        _E.MARK_UNDELIVERABLE: _S.OPTED_OUT,
        _E.DELETE: DELETED,
    },
    _S.COMPLETED: {
        _E.OPT_OUT: _S.OPTED_OUT,
        _E.OPT_IN: _S.ENROLLING,  # nothing to resume: enroll afresh
        _E.ENROLL: _S.ENROLLING,
        _E.FINISH_ENROLLMENT: REFUSED,
        _E.PAUSE: REFUSED,  # "this was our last text": nothing to pause
        _E.RESUME: REFUSED,
        _E.PAUSE_ENDED: _S.COMPLETED,
        _E.ADD_CHILD: _S.ACTIVE,
        _E.COMPLETE: _S.COMPLETED,
        _E.MARK_UNDELIVERABLE: _S.COMPLETED,  # nothing more is sent to them anyway
        _E.DELETE: DELETED,
    },
    _S.UNDELIVERABLE: {
        _E.OPT_OUT: _S.OPTED_OUT,
        _E.OPT_IN: _S.ACTIVE,  # they texted START: the number works again
        _E.ENROLL: _S.ENROLLING,
        _E.FINISH_ENROLLMENT: REFUSED,
        _E.PAUSE: REFUSED,  # tips are already on hold; START brings them back
        _E.RESUME: REFUSED,
        _E.PAUSE_ENDED: _S.UNDELIVERABLE,
        _E.ADD_CHILD: _S.UNDELIVERABLE,
        _E.COMPLETE: _S.COMPLETED,
        _E.MARK_UNDELIVERABLE: _S.UNDELIVERABLE,
        _E.DELETE: DELETED,
    },
}

# Moves into these statuses stop every text still waiting in the outbox.
_STOPS_TEXTS = frozenset({Status.OPTED_OUT, Status.PAUSED, Status.UNDELIVERABLE})
_ENDS_SURVEYS = _STOPS_TEXTS - {Status.PAUSED}
# Outbox states of texts that have not gone out: planned, or claimed but not yet handed over
# (the dispatcher checks the row right before the provider call and marks it `checked_at`;
# from then on it is on its way and `cancel_queued` leaves it alone; see jobs.last_check).
QUEUED_STATES = ("pending", "sending")
# Who made a change when no staff member did: the provider's reports are audited too.
CARRIER = Actor(name="carrier")
PARENT = Actor(name="caregiver")  # the parent's own text made the change


class LifecycleRefused(CaregiverError):
    """An event that does not apply to the caregiver's status; nothing was changed."""

    def __init__(self, status: Status, event: Event) -> None:
        super().__init__(f"a caregiver who is {status} cannot {event.replace('_', ' ')}")
        self.status = status
        self.event = event


@dataclass(frozen=True)
class Evidence:
    """What made a consent change: its source and the words (a consent_event's columns)."""

    source: str  # keyword, twilio_opt_out_type, carrier, staff, enrollment
    text: str
    keyword: str | None = None
    inbound: InboundMessage | None = None


def target(status: str, event: Event) -> Target:
    """What `event` does to a caregiver who is `status`, by the table."""
    return TRANSITIONS[Status(status)][event]


def _move(
    session: Session, caregiver: Caregiver, event: Event, *, now: datetime, reason: str
) -> Status:
    """Apply the table's move for `event` (raising when it is refused) and what it implies."""
    before = Status(caregiver.status)
    after = target(before, event)
    if after in (REFUSED, DELETED):
        raise LifecycleRefused(before, event)
    after = Status(after)
    caregiver.status = after
    caregiver.updated_at = now
    if after is not Status.PAUSED:
        caregiver.paused_until = None
    if after in _STOPS_TEXTS and caregiver.id is not None:
        cancelled = cancel_queued(session, caregiver_ids=[caregiver.id], reason=reason, now=now)
        if cancelled:
            logger.info(
                "%s %s: %d queued text(s) cancelled", mask(caregiver.phone), after, cancelled
            )
    if after in _ENDS_SURVEYS and caregiver.id is not None:
        # A survey question asked before a STOP is not waiting for an answer any more: after a
        # START the family's next digit is theirs (or a command), never that old question's.
        # (A pause keeps it: a paused family may still answer.)
        session.execute(
            update(SurveyRun)
            .where(SurveyRun.caregiver_id == caregiver.id, SurveyRun.state == "open")
            .values(state="closed", ended_at=now)
            .execution_options(synchronize_session=False)
        )
    return after


def register(
    session: Session,
    *,
    phone: str,
    language: str,
    timezone: str,
    region: str | None,
    now: datetime,
    partner: Partner,
) -> Caregiver:
    """A new caregiver for a number we never saw: enrolling, or opted out if it was erased.

    The row is new, so what its text's handling would read of it is known without asking:
    its partner (the reply names it) and its children (none)."""
    caregiver = Caregiver(
        phone=phone,
        language=language,
        timezone=timezone,
        region=region,
        partner=partner,
        status=Status.ENROLLING,
        paused_until=None,  # written now, so that enrolling's "no pause" costs no UPDATE
        conversation_data={},
        created_at=now,
        updated_at=now,
    )
    if suppression.lift(session, phone):
        # Their data was deleted on request: the number starts opted out (only the program
        # keyword, a fresh opt-in, enrolls it again), and the opt-out lives on this row now.
        caregiver.status, caregiver.opted_out_at = Status.OPTED_OUT, now
    session.add(caregiver)
    session.flush()
    set_committed_value(caregiver, "children", [])
    return caregiver


def invite(
    session: Session,
    *,
    phone: str,
    language: str,
    timezone: str,
    region: str | None,
    now: datetime,
    partner_id: int | None = None,
) -> Caregiver:
    """A number staff invite: invited, which gets no tips or campaigns until it texts to join
    (the invitation is not consent). Only numbers never seen and never erased are invited."""
    caregiver = Caregiver(
        phone=phone,
        language=language,
        timezone=timezone,
        region=region,
        partner_id=partner_id or default_partner_id(session, now=now),
        status=Status.INVITED,
        conversation_data={},
        created_at=now,
        updated_at=now,
    )
    session.add(caregiver)
    session.flush()
    return caregiver


def opt_out(
    session: Session,
    caregiver: Caregiver,
    *,
    evidence: Evidence,
    now: datetime,
    actor: Actor | None = None,
) -> bool:
    """Stop everything for this caregiver; False when they had already opted out.

    The consent event is recorded either way: every STOP is evidence of the wish.
    """
    first_time = caregiver.status != Status.OPTED_OUT
    _move(session, caregiver, Event.OPT_OUT, now=now, reason="caregiver opted out")
    if first_time:
        caregiver.opted_out_at = now
    caregiver.conversation_step = None
    caregiver.conversation_data = {}
    _consent(session, caregiver, "opt_out", evidence, now=now)
    if actor is not None:
        actor.audit(session, "caregiver.opt_out", caregiver, source=evidence.source)
    return first_time


def staff_opt_out(
    session: Session, caregiver: Caregiver, *, note: str, actor: Actor, now: datetime
) -> None:
    """Opt a caregiver out because they asked staff (by phone, in person...)."""
    if caregiver.status == Status.OPTED_OUT:
        raise CaregiverError("this caregiver has already opted out")
    text = note.strip()[:500] or f"recorded by {actor.name}"
    opt_out(session, caregiver, evidence=Evidence(source="staff", text=text), now=now, actor=actor)


def opt_in(session: Session, caregiver: Caregiver, *, evidence: Evidence, now: datetime) -> Status:
    """START: tips resume when there is something to resume (a schedule and an active child),
    otherwise the caregiver is enrolling afresh. Returns the status that follows."""
    _consent(session, caregiver, "opt_in", evidence, now=now)
    if target(caregiver.status, Event.OPT_IN) == Status.ACTIVE and _has_tips(session, caregiver):
        return _move(session, caregiver, Event.OPT_IN, now=now, reason="")
    if caregiver.status != Status.ENROLLING:
        return _move(session, caregiver, Event.ENROLL, now=now, reason="")
    return Status.ENROLLING


def start_enrollment(
    session: Session, caregiver: Caregiver, *, now: datetime, evidence: Evidence | None = None
) -> None:
    """The enrollment conversation begins; from an opt-out or an invitation it needs the
    opt-in `evidence` (the parent's own text)."""
    if caregiver.status in (Status.OPTED_OUT, Status.INVITED):
        if evidence is None:
            raise LifecycleRefused(Status(caregiver.status), Event.ENROLL)
        _consent(session, caregiver, "opt_in", evidence, now=now)
    _move(session, caregiver, Event.ENROLL, now=now, reason="")


def finish_enrollment(
    session: Session, caregiver: Caregiver, *, evidence: Evidence, now: datetime
) -> None:
    """Enrollment is complete: tips start. `evidence` is the confirmation (the consent text)."""
    _move(session, caregiver, Event.FINISH_ENROLLMENT, now=now, reason="")
    caregiver.enrolled_at = now
    _consent(session, caregiver, "opt_in", evidence, now=now)


def change_partner(
    session: Session,
    caregiver: Caregiver,
    *,
    partner_id: int,
    evidence: Evidence,
    now: datetime,
    consent: bool = True,
) -> bool:
    """The family joins again through another partner (its keyword or number): from now on
    its texts, staff and results are that partner's. The parent's text is the opt-in on
    record (`consent=False`: the same text was just recorded as one), and the move is
    audited. False (nothing written) when the family is already with that partner."""
    before = caregiver.partner_id
    if before == partner_id:
        return False
    caregiver.partner_id = partner_id
    caregiver.updated_at = now
    if consent:
        _consent(session, caregiver, "opt_in", evidence, now=now)
    PARENT.audit(
        session,
        "caregiver.partner_change",
        caregiver,
        from_partner_id=before,
        to_partner_id=partner_id,
        keyword=evidence.keyword,
    )
    return True


def pause(
    session: Session,
    caregiver: Caregiver,
    *,
    until: datetime,
    now: datetime,
    actor: Actor | None = None,
) -> None:
    """Hold every text to this caregiver until `until` (the planner resumes them then)."""
    if until <= now:
        raise CaregiverError("the pause must end in the future")
    _move(session, caregiver, Event.PAUSE, now=now, reason="caregiver paused messages")
    caregiver.paused_until = until
    if actor is not None:
        actor.audit(session, "caregiver.pause", caregiver, until=until.isoformat())


def resume(
    session: Session, caregiver: Caregiver, *, now: datetime, actor: Actor | None = None
) -> None:
    """End a pause now (an active caregiver stays active)."""
    _move(session, caregiver, Event.RESUME, now=now, reason="")
    if actor is not None:
        actor.audit(session, "caregiver.resume", caregiver)


def add_child(session: Session, caregiver: Caregiver, *, now: datetime) -> None:
    """A child was added: a caregiver whose children had all aged out gets tips again."""
    _move(session, caregiver, Event.ADD_CHILD, now=now, reason="")


def mark_undeliverable(
    session: Session, caregiver_id: int, *, error_code: str, now: datetime
) -> bool:
    """The carrier says this number cannot get texts; False when nothing changed."""
    caregiver = session.get(Caregiver, caregiver_id, with_for_update=True)
    if caregiver is None or target(caregiver.status, Event.MARK_UNDELIVERABLE) in (
        caregiver.status,
        REFUSED,
    ):
        return False
    _move(session, caregiver, Event.MARK_UNDELIVERABLE, now=now, reason="number undeliverable")
    CARRIER.audit(session, "caregiver.undeliverable", caregiver, error_code=error_code)
    return True


def carrier_opt_out(session: Session, caregiver_id: int, *, error: str, now: datetime) -> bool:
    """The carrier refused a text because the number unsubscribed there (Twilio 21610)."""
    caregiver = session.get(Caregiver, caregiver_id, with_for_update=True)
    if caregiver is None or caregiver.status == Status.OPTED_OUT:
        return False
    return opt_out(
        session, caregiver, evidence=Evidence(source="carrier", text=error), now=now, actor=CARRIER
    )


def delete(session: Session, caregiver: Caregiver, *, actor: Actor) -> None:
    """Admins only: erase the caregiver, keeping an anonymous opt-out so they are never texted."""
    if not actor.is_admin:
        raise CaregiverError("only admins can delete personal data")
    suppression.suppress(session, caregiver.phone, reason="deleted on request")
    caregiver_id = caregiver.id
    # Audit rows about this caregiver may quote what they wrote; keep only that it happened.
    for entry in session.scalars(
        select(AuditLog).where(
            AuditLog.target_type == "Caregiver", AuditLog.target_id == str(caregiver_id)
        )
    ):
        entry.detail = {}
    # The foreign keys cascade to children, messages in and out, consent events and tags.
    session.execute(sa_delete(Caregiver).where(Caregiver.id == caregiver_id))
    session.expunge(caregiver)
    actor.audit(session, "caregiver.delete", None, caregiver_id=caregiver_id)


def end_pauses(executor: Session | Connection, *, now: datetime) -> int:
    """Every pause whose end has passed is over (set-based, for the planner)."""
    result = executor.execute(
        update(Caregiver)
        .where(
            Caregiver.status.in_(_moving(Event.PAUSE_ENDED, Status.ACTIVE)),
            Caregiver.paused_until <= now,
        )
        .values(status=Status.ACTIVE, paused_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], result).rowcount)


def complete_caregivers(session: Session, caregiver_ids: Iterable[int], *, now: datetime) -> int:
    """Caregivers among these with no active child left are completed (set-based, for aging)."""
    still_active = exists().where(Child.caregiver_id == Caregiver.id, Child.status == "active")
    result = session.execute(
        update(Caregiver)
        .where(
            Caregiver.id.in_(list(caregiver_ids)),
            Caregiver.status.in_(_moving(Event.COMPLETE, Status.COMPLETED)),
            ~still_active,
        )
        .values(status=Status.COMPLETED, paused_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], result).rowcount)


def cancel_queued(session: Session, *, caregiver_ids: list[int], reason: str, now: datetime) -> int:
    """Cancel these caregivers' texts that have not gone out; returns how many.

    A claimed row that passed its last check (`checked_at` set) is on its way to the provider:
    it is left alone, so that it is recorded as what it is (see `texts_on_their_way`). On
    PostgreSQL this UPDATE and the last check's lock the same row, so one waits for the other
    and sees its result (jobs/last_check.py).
    """
    result = session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.caregiver_id.in_(caregiver_ids),
            or_(
                OutboundMessage.state == "pending",
                and_(OutboundMessage.state == "sending", OutboundMessage.checked_at.is_(None)),
            ),
        )
        .values(state="cancelled", error_message=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], result).rowcount)


def texts_on_their_way(session: Session, caregiver_id: int) -> int:
    """How many of this caregiver's texts passed their last check and are being handed to the
    provider now (a STOP leaves them alone: its confirmation waits until they are recorded)."""
    count = session.scalar(
        select(func.count())
        .select_from(OutboundMessage)
        .where(
            OutboundMessage.caregiver_id == caregiver_id,
            OutboundMessage.state == "sending",
            OutboundMessage.checked_at.is_not(None),
        )
    )
    return int(count or 0)


def _moving(event: Event, to: Status) -> list[str]:
    """The statuses that `event` moves to `to` (the set-based transitions' WHERE)."""
    return [status for status, moves in TRANSITIONS.items() if moves[event] == to != status]


def _has_tips(session: Session, caregiver: Caregiver) -> bool:
    """Whether tips can resume: a chosen schedule and at least one active child."""
    if caregiver.send_weekday is None or caregiver.send_hour is None or caregiver.id is None:
        return False
    child = session.scalar(
        select(Child.id).where(Child.caregiver_id == caregiver.id, Child.status == "active")
    )
    return child is not None


def _consent(
    session: Session, caregiver: Caregiver, kind: str, evidence: Evidence, *, now: datetime
) -> None:
    record_consent(
        session,
        caregiver=caregiver,
        kind=kind,
        source=evidence.source,
        keyword=evidence.keyword,
        text=evidence.text,
        inbound=evidence.inbound,
        now=now,
    )
