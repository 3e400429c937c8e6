"""Answering a parent from the inbox: through the outbox, with consent and quiet hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_service.core import outbox
from sms_service.core.audit import Actor
from sms_service.core.models import Caregiver, CaregiverStatus, OutboundMessage, Partner
from sms_service.core.settings import Settings
from sms_service.delivery.sendwindow import next_send_time
from sms_service.inbox.items import InboxError, open_message

# Three GSM-7 segments: an answer, not a newsletter.
MAX_ANSWER_LENGTH = 459
# A family that opted out or cannot receive texts gets nothing; a pause is the family's choice.
_REFUSED = {
    CaregiverStatus.OPTED_OUT: "this family opted out: nothing more may be sent to them",
    CaregiverStatus.UNDELIVERABLE: "this family's number cannot receive texts",
}


@dataclass(frozen=True)
class Answer:
    """A staff answer as queued: the outbox row and whether quiet hours delay it."""

    message: OutboundMessage
    delayed: bool


def answer(
    session: Session,
    message_id: int,
    text: str,
    *,
    actor: Actor,
    settings: Settings,
    now: datetime,
) -> Answer:
    """Queue `text` to the family that sent inbox message `message_id`; the caller commits.

    The dispatcher sends it (its last check sees a STOP committed meanwhile), at once or when
    the family's quiet hours end; the text is marked done and the answer audited.
    """
    # The text first: another partner's id is a 404 whatever the form holds.
    message = open_message(session, message_id, scope=actor.scope, lock=True)
    text = " ".join(text.split())
    if not text:
        raise InboxError("write the answer first")
    if len(text) > MAX_ANSWER_LENGTH:
        raise InboxError(f"an answer is at most {MAX_ANSWER_LENGTH} characters")
    # Locked like a STOP locks it: a STOP either commits first (refused here) or cancels this.
    caregiver = session.scalar(
        select(Caregiver).where(Caregiver.id == message.caregiver_id).with_for_update()
    )
    if caregiver is None:
        raise InboxError(f"there is no inbox message {message_id}")
    refusal = _REFUSED.get(CaregiverStatus(caregiver.status))
    if caregiver.status == CaregiverStatus.PAUSED:
        refusal = "this family paused texts: answer once the pause ends, or resume them first"
    if refusal is not None:
        raise InboxError(refusal)
    local = now.astimezone(ZoneInfo(caregiver.timezone))
    due = next_send_time(local, caregiver.region, settings).astimezone(UTC)
    earlier = session.scalar(
        select(func.count())
        .select_from(OutboundMessage)
        .where(OutboundMessage.dedupe_key.startswith(f"staff:{message.id}:"))
    )
    row = outbox.queue_text(
        session,
        key=outbox.staff_key(inbound_id=message.id, number=(earlier or 0) + 1),
        kind="staff",
        caregiver_id=caregiver.id,
        to_number=caregiver.phone,
        sender=session.scalar(select(Partner.sender).where(Partner.id == caregiver.partner_id)),
        body=f"{settings.program_name}: {text}",
        due_at=due,
        now=now,
    )
    message.inbox_state = "done"
    session.flush()
    actor.audit(
        session, "inbox.answer", message, outbound_message_id=row.id, due_at=due.isoformat()
    )
    return Answer(message=row, delayed=due > now)
