"""Answer one inbound text: store it, apply compliance keywords, then the conversation."""

from __future__ import annotations

import functools
import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Insert, Table, bindparam, exists, select
from sqlalchemy import insert as insert_row
from sqlalchemy.orm import Session, contains_eager

from content.segments import analyze
from content.urgent import is_urgent
from sms_service.caregivers import lifecycle
from sms_service.caregivers.lifecycle import Evidence, Status
from sms_service.core import outbox
from sms_service.core.models import (
    Caregiver,
    InboundMessage,
    OutboundMessage,
    Partner,
    PartnerKeyword,
    SurveyRun,
)
from sms_service.core.phones import mask, timezone_for, to_e164, us_state_for
from sms_service.core.settings import Settings
from sms_service.surveys import questions
from sms_service.texting import commands, conversation, invites, owner, survey_turn
from sms_service.texting.conversation import Turn
from sms_service.texting.keywords import (
    COMPLIANCE,
    Keyword,
    Kind,
    classify,
    found_keyword,
    from_opt_out_type,
    partner_keyword,
    partner_of_new_family,
    partner_word,
)

logger = logging.getLogger(__name__)

# A chatty parent gets one "thank you, we read every message" a day at most.
ACK_INTERVAL = timedelta(days=1)
# A parent's own words, not a command or an enrollment answer: they go to the staff inbox
# (an opted-out parent's too: staff read it, though they may not text back).
INBOX_HANDLINGS = ("reply", "ignored_opted_out")


@dataclass(frozen=True)
class IncomingText:
    """The fields of Twilio's message webhook that matter here."""

    message_sid: str
    from_number: str
    to_number: str = ""
    body: str = ""
    num_media: int = 0
    opt_out_type: str | None = None


@dataclass(frozen=True)
class Handled:
    """What handling a text came to: the reply to send (if any) and how it was handled."""

    reply: str | None
    handled_as: str
    caregiver_id: int | None = None  # whose text it was (None before a caregiver is known)


def clean_body(body: str) -> str:
    """The text with control characters (NUL included: PostgreSQL refuses it) removed."""
    return "".join(
        char for char in body if char in "\n\t" or unicodedata.category(char) != "Cc"
    ).strip()


def storable(value: str) -> str:
    """`value` as a text column can hold it: PostgreSQL refuses NUL in text (SQLite takes it,
    so both store the same). Only NUL goes; the rest of what Twilio sent is kept whole."""
    return value.replace("\x00", "")


def handle_inbound(
    incoming: IncomingText,
    *,
    session: Session,
    settings: Settings,
    now: datetime,
    check_duplicate: bool = True,
) -> Handled:
    """Store `incoming` and act on it once; the caller commits. A MessageSid already stored is
    a duplicate: nothing is done twice.

    `check_duplicate=False` (the webhook's first try) skips looking for the MessageSid first:
    the text's row is then written with everything known of it in one INSERT, at the end, and
    a duplicate fails that INSERT (unique message_sid, waiting for a concurrent first copy to
    commit) with an IntegrityError, which rolls the whole handling back; the webhook then
    tries once more with the check (sms_inbound.receive)."""
    # Every field as stored, and read from here on: what is acted on is what is on record
    # (and a NUL in a query parameter would fail on PostgreSQL before the insert does).
    sid = storable(incoming.message_sid)
    sender = storable(incoming.from_number)
    opt_out_type = storable(incoming.opt_out_type or "") or None
    body = clean_body(incoming.body)  # what the conversation reads
    if check_duplicate and session.scalar(_STORED, {"sid": sid}) is not None:
        logger.info("duplicate MessageSid %s ignored", sid)
        return Handled(None, "duplicate")
    phone = to_e164(sender) if sender.startswith("+") else None
    # The family first, locked: its texts are handled one at a time.
    keyword = classify(body, settings)
    word = partner_word(body) if keyword is None else None
    caregiver, keyword, survey_open = (
        _family(session, phone, word, keyword) if phone is not None else (None, keyword, False)
    )
    new_family = caregiver is None  # its row is made below, for this text
    inbound = InboundMessage(
        message_sid=sid,
        from_number=sender[:64],
        to_number=storable(incoming.to_number)[:64],
        body=storable(incoming.body),  # whole, but for NUL
        num_media=incoming.num_media,
        opt_out_type=opt_out_type and opt_out_type[:20],
        received_at=now,
        # _store's Core INSERT writes every column as the object holds it, and an attribute
        # never set reads None there, not the column's default.
        urgent=False,
    )
    if phone is None:
        logger.warning("text %s from a sender that is not a phone number", sid)
        inbound.handled_as = "not_a_phone"
        _store(session, inbound)
        return Handled(None, "not_a_phone")
    if caregiver is None:
        if word is not None:
            keyword = partner_keyword(session, word)
        # Even a STOP from a number we never saw gets a row (opt_out sets its status), so the
        # opt-out is on record if the number ever turns up again.
        language = keyword.language if keyword and keyword.language else "en"
        # A partner's keyword, or a text to a partner's own number, makes it that partner's.
        partner = partner_of_new_family(
            session, keyword=keyword, to_number=inbound.to_number, now=now
        )
        caregiver = _new_caregiver(session, settings, phone, language, now=now, partner=partner)
    inbound.caregiver_id = caregiver.id
    # Not in the session: _store writes it at the end with how it was handled, unless the
    # handling names it first (a consent event, a survey answer), which adds it.
    turn = Turn(
        session=session,
        settings=settings,
        caregiver=caregiver,
        inbound=inbound,
        now=now,
        new_family=new_family,
    )
    twilio_kind = from_opt_out_type(opt_out_type)
    outcome = _decide(turn, keyword, twilio_kind, body=body, survey_open=survey_open)
    inbound.handled_as = outcome.handled_as
    if outcome.handled_as in INBOX_HANDLINGS:
        # Nothing automatic answers these: a person reads them (the acknowledgement says so).
        inbound.inbox_state = "unread"
        inbound.urgent = is_urgent(body)
    reply = None if outcome.reply is None else _reply(inbound, phone, outcome.reply, now)
    _store(session, inbound, reply)
    logger.info("text %s from %s handled as %s", sid, mask(phone), outcome.handled_as)
    return replace(outcome, caregiver_id=inbound.caregiver_id)


def _store(
    session: Session, inbound: InboundMessage, reply: dict[str, object] | None = None
) -> None:
    """Write the text's row and its reply's now: a duplicate MessageSid fails here, before
    anything is logged as done (what else the handling changed is flushed at commit).

    The reply goes in the outbox as already sent (the TwiML answer), so every message shows
    in and out. Both rows are Core INSERTs built once (nothing reads them back here), on
    PostgreSQL one statement (a data-modifying WITH, one round trip instead of two), unless
    the handling put the text's row in the session (a consent event or a survey answer names
    it): then the ORM writes it, and the reply follows."""
    row = {column: getattr(inbound, column) for column in _INBOUND_COLUMNS}
    if inbound in session:
        session.flush()
    elif reply is not None and session.get_bind().dialect.name == "postgresql":
        both = row | {f"reply_{column}": value for column, value in reply.items()}
        inbound.id = session.execute(_inbound_and_reply(tuple(reply)), both).scalar_one()
        return
    else:
        inbound.id = session.execute(_INBOUND, row).scalar_one()
    if reply is not None:
        session.execute(_REPLY, reply)


# Built once, the values passed as parameters: these run for every text.
_STORED = select(InboundMessage.id).where(InboundMessage.message_sid == bindparam("sid"))


def _family(
    session: Session, phone: str, word: str | None, keyword: Keyword | None
) -> tuple[Caregiver | None, Keyword | None, bool]:
    """The caregiver texting from `phone`, locked, the text's keyword (`keyword`, else the
    partner keyword `word` is) and whether a survey run of theirs is open. One query: the
    caregiver's partner (every answer names it, texting/messages.py), the partner keyword and
    the survey flag come with the caregiver's row."""
    row = session.execute(_FAMILY, {"phone": phone, "word": word}).first()
    if row is None:
        return None, keyword, False
    if keyword is None and row.partner_id is not None:
        assert word is not None  # the keyword row matched `word`
        keyword = found_keyword(word, partner_id=row.partner_id, language=row.language)
    return row.Caregiver, keyword, bool(row.survey_open)


# Most families have no survey open: their texts need not look for its question. A run that
# opens after this is not answered by this text (its question has not gone out before it).
_SURVEY_OPEN = (
    exists()
    .where(SurveyRun.caregiver_id == Caregiver.id, SurveyRun.state == "open")
    .label("survey_open")
)
_FAMILY = (
    select(Caregiver, PartnerKeyword.partner_id, PartnerKeyword.language, _SURVEY_OPEN)
    .join(Caregiver.partner)
    .outerjoin(PartnerKeyword, PartnerKeyword.word == bindparam("word"))
    .options(contains_eager(Caregiver.partner))
    .where(Caregiver.phone == bindparam("phone"))
    .with_for_update(of=Caregiver)
)


def _decide(
    turn: Turn, keyword: Keyword | None, twilio_kind: Kind | None, *, body: str, survey_open: bool
) -> Handled:
    """Hand the text to the conversation that owns it (texting/owner.py decides which)."""
    caregiver = turn.caregiver
    keyword, twilio_kind = owner.without_soft_opt_in(
        status=caregiver.status,
        conversation_step=caregiver.conversation_step,
        keyword=keyword,
        twilio_kind=twilio_kind,
    )
    facts = owner.Facts(
        status=caregiver.status,
        conversation_step=caregiver.conversation_step,
        keyword=keyword,
        twilio_kind=twilio_kind,
        find_question=(lambda: _open_question(turn)) if survey_open else (lambda: None),
    )
    return _BY_OWNER[owner.owner_of(facts)](turn, facts, body)


def _open_question(turn: Turn) -> questions.OpenQuestion | None:
    # It reads survey runs only: what the handling has changed can wait for the end.
    with turn.session.no_autoflush:
        return questions.open_question(
            session=turn.session,
            caregiver_id=turn.caregiver.id,
            now=turn.now,
            window=timedelta(hours=turn.settings.survey_answer_window_hours),
        )


def _command(turn: Turn, facts: owner.Facts, body: str) -> Handled:
    """Compliance keywords first, then the program keyword, SUPPORT and the commands."""
    caregiver, keyword, twilio_kind = turn.caregiver, facts.keyword, facts.twilio_kind
    compliance = twilio_kind or (keyword.kind if keyword and keyword.kind in COMPLIANCE else None)
    if compliance is not None:
        word = keyword.word if keyword and keyword.kind is compliance else body[:40].upper()
        source = "twilio_opt_out_type" if twilio_kind is not None else "keyword"
        evidence = Evidence(source=source, text=body, keyword=word, inbound=turn.inbound)
        if caregiver.status == Status.INVITED and compliance is Kind.OPT_IN:
            evidence = invites.accepted(turn.session, caregiver, evidence, now=turn.now)
        return _compliance(turn, compliance, evidence, twilio_answered=twilio_kind is not None)
    assert keyword is not None  # the owner gives a command only a keyword or Twilio's kind
    if caregiver.status == Status.OPTED_OUT:
        # Texting the program keyword is asking to join again: that is an opt-in.
        evidence = Evidence(source="keyword", text=body, keyword=keyword.word, inbound=turn.inbound)
        return Handled(conversation.begin_enrollment(turn, keyword, evidence), "keyword")
    if keyword.kind is Kind.SUPPORT:
        # Anyone may ask, mid-enrollment too: the answer leaves the conversation where it was.
        return Handled(turn.texts.render("support"), "support")
    if keyword.kind is Kind.ENROLL:
        if caregiver.status in {Status.ACTIVE, Status.PAUSED}:
            return Handled(conversation.rejoin(turn, keyword), "keyword")
        if caregiver.status == Status.INVITED:
            # The parent's answer to the invitation: their own opt-in, naming it.
            evidence = invites.accepted(
                turn.session,
                caregiver,
                Evidence(source="keyword", text=body, keyword=keyword.word, inbound=turn.inbound),
                now=turn.now,
            )
            return Handled(conversation.begin_enrollment(turn, keyword, evidence), "keyword")
        return Handled(conversation.begin_enrollment(turn, keyword), "keyword")
    return Handled(commands.command(turn, keyword), f"command:{keyword.kind.value}")


def _enrollment(turn: Turn, facts: owner.Facts, body: str) -> Handled:
    """An answer to the enrollment question (or to AGE, TIME, LANG, ADD after enrolling)."""
    if turn.caregiver.status == Status.ENROLLING:
        if turn.caregiver.conversation_step is None:
            return Handled(conversation.begin_enrollment(turn, None), "welcome")
        return Handled(conversation.answer(turn, body, keyword=facts.keyword), "answer")
    return Handled(conversation.answer(turn, body), "answer")


def _survey(turn: Turn, facts: owner.Facts, body: str) -> Handled:
    """The answer to the survey question that is out; a second misfit is the parent's own words."""
    question = facts.question
    assert question is not None  # the owner gives the survey only a text with a question out
    answered = survey_turn.answer_question(turn, question, body)
    if answered is None:
        return _inbox(turn, facts, body)
    return Handled(*answered)


def _inbox(turn: Turn, facts: owner.Facts, body: str) -> Handled:
    """The parent's own words: a person reads them (an opted-out parent's too, unanswered)."""
    if turn.caregiver.status == Status.OPTED_OUT:
        return Handled(None, "ignored_opted_out")
    # An invited number's text is not a yes either (only the keyword or START is): nothing
    # enrolls, a person reads it.
    return _acknowledge(turn)


_BY_OWNER: dict[owner.Owner, Callable[[Turn, owner.Facts, str], Handled]] = {
    owner.Owner.COMMAND: _command,
    owner.Owner.ENROLLMENT: _enrollment,
    owner.Owner.SURVEY: _survey,
    owner.Owner.INBOX: _inbox,
}


def _compliance(turn: Turn, kind: Kind, evidence: Evidence, *, twilio_answered: bool) -> Handled:
    """STOP, START and HELP families. With Twilio's Advanced Opt-Out (OptOutType set) Twilio
    has already sent its own confirmation, so ours would be a second one: stay quiet."""
    session, caregiver, now = turn.session, turn.caregiver, turn.now
    if kind is Kind.OPT_OUT:
        first_time = lifecycle.opt_out(session, caregiver, evidence=evidence, now=now)
        if first_time and not twilio_answered:
            return Handled(turn.texts.render("opted_out"), "opt_out")
        return Handled(None, "opt_out")
    if kind is Kind.HELP:
        turn.record_consent("help", evidence)
        return Handled(None if twilio_answered else turn.texts.render("help"), "help")
    was = caregiver.status
    if was == Status.ENROLLING and caregiver.conversation_step is not None:
        turn.record_consent("opt_in", evidence)
        return Handled(conversation.prompt(turn), "opt_in")
    if lifecycle.opt_in(session, caregiver, evidence=evidence, now=now) is Status.ACTIVE:
        if twilio_answered:
            return Handled(None, "opt_in")
        return Handled(
            turn.texts.render("already_in" if was == Status.ACTIVE else "opted_in"), "opt_in"
        )
    # Nothing to resume (never enrolled, or every child aged out): enroll afresh.
    return Handled(conversation.begin_enrollment(turn, None), "opt_in")


def _acknowledge(turn: Turn) -> Handled:
    caregiver = turn.caregiver
    if caregiver.last_ack_at is not None and turn.now - caregiver.last_ack_at < ACK_INTERVAL:
        return Handled(None, "reply")
    caregiver.last_ack_at = turn.now
    return Handled(turn.texts.render("reply_ack"), "reply")


def _new_caregiver(
    session: Session,
    settings: Settings,
    phone: str,
    language: str,
    *,
    now: datetime,
    partner: Partner,
) -> Caregiver:
    caregiver = lifecycle.register(
        session,
        phone=phone,
        language=language,
        # Where the number tells none, the partner's own zone, else the program's.
        timezone=timezone_for(phone, partner.timezone or settings.timezone),
        region=us_state_for(phone),
        now=now,
        partner=partner,
    )
    logger.info("new caregiver %s", mask(phone))
    return caregiver


def _reply(inbound: InboundMessage, phone: str, body: str, now: datetime) -> dict[str, object]:
    """The outbox row of the TwiML reply to `inbound`, on record as sent."""
    return {
        "dedupe_key": outbox.reply_key(message_sid=inbound.message_sid),
        "kind": "reply",
        "caregiver_id": inbound.caregiver_id,
        "to_number": phone,
        "body": body,
        "segments": analyze(body).segments,
        "state": "sent",
        # Every defaulted column given: in the one-statement form SQLAlchemy fills in the
        # Python-side defaults of one INSERT only.
        "attempts": 0,
        "due_at": now,
        "sent_at": now,
        "created_at": now,
        "updated_at": now,
    }


_INBOX = cast(Table, InboundMessage.__table__)  # a declarative model's own table
_OUTBOX = cast(Table, OutboundMessage.__table__)
_INBOUND_COLUMNS = (
    "message_sid",
    "caregiver_id",
    "from_number",
    "to_number",
    "body",
    "num_media",
    "opt_out_type",
    "received_at",
    "handled_as",
    "inbox_state",
    "urgent",
)
_REPLY = insert_row(_OUTBOX)
_INBOUND = (
    insert_row(_INBOX)
    .values({column: bindparam(column) for column in _INBOUND_COLUMNS})
    .returning(_INBOX.c.id)
)


@functools.cache
def _inbound_and_reply(reply_columns: tuple[str, ...]) -> Insert:
    """Both INSERTs in one statement (PostgreSQL), the reply's values named reply_<column>."""
    reply = insert_row(_OUTBOX).values(
        {column: bindparam(f"reply_{column}") for column in reply_columns}
    )
    return _INBOUND.add_cte(reply.cte("reply"))
