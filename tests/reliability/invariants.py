"""What must hold in the database after any run of webhooks, checked in SQL: a list of breaches."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from sms_service.caregivers.lifecycle import QUEUED_STATES
from sms_service.core.models import (
    Caregiver,
    CaregiverStatus,
    ConsentEvent,
    InboundMessage,
    OutboundMessage,
)

# Statuses that must have nothing waiting in the outbox (lifecycle cancels it on the move).
NOTHING_QUEUED = (CaregiverStatus.OPTED_OUT, CaregiverStatus.PAUSED, CaregiverStatus.UNDELIVERABLE)


def _without_consent(kind: str, status: CaregiverStatus) -> Select[str]:
    return (
        select(Caregiver.phone)
        .where(Caregiver.status == status)
        .where(
            ~exists().where(ConsentEvent.caregiver_id == Caregiver.id, ConsentEvent.kind == kind)
        )
    )


def breaches(sessions: sessionmaker[Session], *, accepted_sids: Iterable[str]) -> list[str]:
    """Every invariant that does not hold; `accepted_sids` are the MessageSids (as stored) of
    the texts the service answered 2xx, each of which must be in inbound_message exactly once."""
    found: list[str] = []
    with sessions() as session:
        twice = session.execute(
            select(Caregiver.phone, func.count()).group_by(Caregiver.phone).having(func.count() > 1)
        ).all()
        found += [f"{count} caregivers for {phone!r}" for phone, count in twice]
        for kind, status in (
            ("opt_out", CaregiverStatus.OPTED_OUT),
            ("opt_in", CaregiverStatus.ACTIVE),  # enrolled: the confirmation is on record
        ):
            phones = session.scalars(_without_consent(kind, status)).all()
            found += [f"{status} {phone!r} has no {kind} consent event" for phone in phones]
        queued = session.execute(
            select(Caregiver.phone, Caregiver.status, OutboundMessage.id)
            .join(Caregiver, Caregiver.id == OutboundMessage.caregiver_id)
            .where(Caregiver.status.in_(NOTHING_QUEUED))
            .where(OutboundMessage.state.in_(QUEUED_STATES))
        ).all()
        found += [
            f"outbox row {id_} queued for {status} {phone!r}" for phone, status, id_ in queued
        ]
        stored = session.execute(
            select(InboundMessage.message_sid, func.count()).group_by(InboundMessage.message_sid)
        ).all()
    counts = dict(stored)
    expected = set(accepted_sids)
    found += [f"accepted text {sid!r} was not stored" for sid in expected - counts.keys()]
    found += [f"text {sid!r} stored but never accepted" for sid in counts.keys() - expected]
    found += [f"text {sid!r} stored {n} times" for sid, n in counts.items() if n != 1]
    return found
