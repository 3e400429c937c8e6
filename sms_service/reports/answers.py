"""What a parent's text or opt-out answers: the last text the family was sent before it.

A parent's text is a *reply to a tip or campaign* when it is their own words (handled as
"reply": not a command, not an enrollment answer, not STOP/HELP) and the last tip, campaign
text or staff answer sent to them before it (core/answered.py, the rule the inbox uses
too) is a tip or a campaign text sent at most REPLY_WINDOW earlier. Opt-outs are
tied to the text before them in the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from sms_service.core.answered import RECEIVED_STATES, previous_text_id
from sms_service.core.models import ConsentEvent, InboundMessage, OutboundMessage
from sms_service.core.scope import Scope

REPLY_WINDOW = timedelta(hours=48)
ANSWERABLE_KINDS = ("tip", "campaign")
SENT = RECEIVED_STATES  # the provider took them
PARENT_WORDS = "reply"  # texting.inbound's handled_as for a parent's own words


@dataclass(frozen=True)
class Answer:
    """A parent's text (or opt-out) and the text sent to the family just before it."""

    id: int  # the inbound message (or consent event)
    at: datetime
    caregiver_id: int
    body: str
    text_id: int | None = None
    text_kind: str | None = None
    text_sent_at: datetime | None = None
    tip_id: str | None = None
    campaign_id: int | None = None
    text_body: str = ""

    @property
    def answers_tip_or_campaign(self) -> bool:
        """It follows a tip or campaign text within REPLY_WINDOW."""
        return (
            self.text_kind in ANSWERABLE_KINDS
            and self.text_sent_at is not None
            and self.at - self.text_sent_at <= REPLY_WINDOW
        )


def _answers(
    session: Session, scope: Scope, source: Any, columns: tuple[Any, ...], *where: Any
) -> list[Answer]:
    text = aliased(OutboundMessage)
    caregiver_id, at, body = columns
    rows = session.execute(
        select(
            source.id,
            at,
            caregiver_id,
            body,
            text.id,
            text.kind,
            text.sent_at,
            text.tip_id,
            text.campaign_id,
            text.body,
        )
        .select_from(source)
        .outerjoin(text, text.id == previous_text_id(caregiver_id, at))
        .where(caregiver_id.is_not(None), scope.families(caregiver_id), *where)
        .order_by(at, source.id)
    )
    return [
        Answer(
            id=row[0],
            at=row[1],
            caregiver_id=row[2],
            body=row[3] or "",
            text_id=row[4],
            text_kind=row[5],
            text_sent_at=row[6],
            tip_id=row[7],
            campaign_id=row[8],
            text_body=row[9] or "",
        )
        for row in rows
    ]


def parent_texts(session: Session, *, start: datetime, end: datetime, scope: Scope) -> list[Answer]:
    """`scope`'s parents' own texts received in [start, end), each with the text before it."""
    return _answers(
        session,
        scope,
        InboundMessage,
        (InboundMessage.caregiver_id, InboundMessage.received_at, InboundMessage.body),
        InboundMessage.handled_as == PARENT_WORDS,
        InboundMessage.received_at >= start,
        InboundMessage.received_at < end,
    )


def opt_outs(session: Session, *, start: datetime, end: datetime, scope: Scope) -> list[Answer]:
    """`scope`'s opt-outs recorded in [start, end), each with the text before it."""
    return _answers(
        session,
        scope,
        ConsentEvent,
        (ConsentEvent.caregiver_id, ConsentEvent.created_at, ConsentEvent.text),
        ConsentEvent.kind == "opt_out",
        ConsentEvent.created_at >= start,
        ConsentEvent.created_at < end,
    )
