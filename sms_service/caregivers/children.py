"""Staff corrections to a child's record: the name and the birth or due date a parent texted."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from content.ages import BirthProblem, checked_birth
from content.render import written_name
from sms_service.caregivers.errors import CaregiverError
from sms_service.core.audit import Actor
from sms_service.core.models import Caregiver, Child, OutboundMessage

_REFUSALS = {
    BirthProblem.TOO_OLD: "that date makes the child 36 months or older, past the program",
    BirthProblem.TOO_FAR: "a due date is at most 40 weeks ahead",
    BirthProblem.UNREADABLE: "pick a date",
}


def correct_child(
    session: Session,
    caregiver: Caregiver,
    child_id: int,
    *,
    name: str,
    birth_date: date,
    today: date,
    actor: Actor,
) -> Child:
    """Set an active child's name and birth date (a future date is a due date); the caregiver
    must be the child's own. Tips not yet sent are planned again with the new name and age."""
    child = session.scalar(
        select(Child).where(Child.id == child_id, Child.caregiver_id == caregiver.id)
    )
    if child is None:
        raise CaregiverError(f"this family has no child {child_id}")
    if child.status != "active":
        raise CaregiverError("only a child still in the program can be corrected")
    birth = checked_birth(birth_date, today=today)
    if isinstance(birth, BirthProblem):
        raise CaregiverError(_REFUSALS[birth])
    cleaned = written_name(name) or None
    changed = [
        field
        for field, before, after in (
            ("name", child.name, cleaned),
            ("birth_date", child.birth_date, birth.date),
            ("is_expected", child.is_expected, birth.is_expected),
        )
        if before != after
    ]
    if not changed:
        return child
    child.name, child.birth_date, child.is_expected = cleaned, birth.date, birth.is_expected
    # A planned tip carries the old name and was picked for the old age; the planner plans the
    # week again once it is gone (its dedupe key is free, and it no longer counts for the cap).
    session.execute(
        delete(OutboundMessage).where(
            OutboundMessage.child_id == child.id,
            OutboundMessage.kind == "tip",
            OutboundMessage.state == "pending",
        )
    )
    actor.audit(session, "child.correct", caregiver, child_id=child.id, changed=changed)
    return child
