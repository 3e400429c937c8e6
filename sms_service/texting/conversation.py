"""The enrollment conversation and the commands of enrolled caregivers, one question per text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from content.ages import Birth, BirthProblem
from content.languages import next_language
from content.schedule_menu import DEFAULT_SCHEDULE
from sms_service.caregivers import lifecycle
from sms_service.caregivers.consent import record_consent
from sms_service.caregivers.lifecycle import Evidence, Status
from sms_service.core.models import Caregiver, Child, InboundMessage
from sms_service.core.settings import Settings
from sms_service.texting import invites
from sms_service.texting.answers import (
    SKIP,
    fold,
    parse_birth,
    parse_language,
    parse_name,
    parse_schedule,
)
from sms_service.texting.keywords import SOFT_OPT_IN_WORDS, Keyword, Kind, partner_for
from sms_service.texting.messages import Texts, texts_for

# A wrong answer is asked again (with an example) this many times, then a default is taken.
MAX_REASKS = 3

# Steps (Caregiver.conversation_step) and modes (what the steps are for, in conversation_data).
LANGUAGE, NAME, BIRTH, SCHEDULE = "language", "child_name", "birth_date", "schedule"
ENROLL, ADD, AGE, TIME, LANG = "enroll", "add", "age", "time", "lang"
# What an invitation said of the child (invites.prefill), carried from step to step.
INVITED = ("invited_name", "invited_birth", "invited_expected")
# The confirmation of an invitation's date, by (first text of the conversation, due date).
_CONFIRM = {
    (True, False): "confirm_born_invited",
    (True, True): "confirm_due_invited",
    (False, False): "confirm_born",
    (False, True): "confirm_due",
}


@dataclass
class Turn:
    """One inbound text being answered: who sent it, when, and where to write."""

    session: Session
    settings: Settings
    caregiver: Caregiver
    inbound: InboundMessage
    now: datetime
    # The family's row was made for this text: it has no children, no invitation, and the
    # partner its keyword or number chose (nothing to read back for those).
    new_family: bool = False

    @property
    def texts(self) -> Texts:
        return texts_for(self.session, self.caregiver, self.settings)

    @property
    def today(self) -> date:
        """The caregiver's local date: ages are counted in their time zone."""
        return self.now.astimezone(ZoneInfo(self.caregiver.timezone)).date()

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.caregiver.conversation_data or {})

    def go(self, step: str | None, **data: Any) -> None:
        """Move to `step` with fresh data (a new dict, so the JSON column sees the change)."""
        self.caregiver.conversation_step = step
        self.caregiver.conversation_data = data if step is not None else {}

    def when(self) -> str:
        """The caregiver's tip day and time in words ("every Monday morning")."""
        weekday, hour = DEFAULT_SCHEDULE
        caregiver = self.caregiver
        if caregiver.send_weekday is not None and caregiver.send_hour is not None:
            weekday, hour = caregiver.send_weekday, caregiver.send_hour
        return self.texts.when(weekday, hour)

    def update(self, **data: Any) -> None:
        self.caregiver.conversation_data = {**self.data, **data}

    def record_consent(self, kind: str, evidence: Evidence) -> None:
        """Record a consent event that changes no status (HELP, START mid-conversation)."""
        record_consent(
            self.session,
            caregiver=self.caregiver,
            kind=kind,
            source=evidence.source,
            keyword=evidence.keyword,
            text=evidence.text,
            inbound=evidence.inbound,
            now=self.now,
        )


def begin_enrollment(turn: Turn, keyword: Keyword | None, opt_in: Evidence | None = None) -> str:
    """Start (or restart) enrollment: a keyword names the language, otherwise ask for it.
    After an opt-out, `opt_in` is the text that asked to join again."""
    caregiver = turn.caregiver
    lifecycle.start_enrollment(turn.session, caregiver, now=turn.now, evidence=opt_in)
    invited: dict[str, Any] = {}
    if not turn.new_family:
        _join_partner(turn, keyword, consent_recorded=opt_in is not None)
        invited = invites.prefill(turn.session, caregiver, today=turn.today)
    if keyword is not None:
        caregiver.language = keyword.language or caregiver.language
        caregiver.enrollment_keyword = keyword.word
        return _first_question(turn, invited)
    turn.go(LANGUAGE, mode=ENROLL, **invited)
    return turn.texts.render("choose_language")


def _invited(data: dict[str, Any]) -> dict[str, Any]:
    return {key: data[key] for key in INVITED if key in data}


def _first_question(turn: Turn, invited: dict[str, Any], *, fallback: bool = False) -> str:
    """The first question once the language is known: what the invitation did not say."""
    name = invited.get("invited_name")
    if name is None:
        turn.go(NAME, mode=ENROLL, **invited)
        return turn.texts.render("language_default" if fallback else "ask_name")
    turn.go(BIRTH, mode=ENROLL, name=name, **invited)
    if "invited_birth" in invited:
        return _confirm_birth(turn, first=True)
    return turn.texts.render("ask_birth_invited", child=name)


def _confirm_birth(turn: Turn, *, first: bool) -> str:
    """One short question instead of asking the date again: is the invitation's date right?"""
    data = turn.data
    birth = date.fromisoformat(data["invited_birth"])
    expected = bool(data.get("invited_expected"))
    return turn.texts.render(
        _CONFIRM[(first, expected)],
        child=data.get("name"),
        child_weeks=max(0, (turn.today - birth).days // 7),
        date=turn.texts.date(birth),
    )


def rejoin(turn: Turn, keyword: Keyword) -> str:
    """An enrollment keyword from a family already getting tips: another partner's keyword (or
    number) moves them to that partner; otherwise they hear they are already signed up."""
    if _join_partner(turn, keyword, consent_recorded=False):
        return turn.texts.render("partner_changed")
    return turn.texts.render("already_enrolled")


def _join_partner(turn: Turn, keyword: Keyword | None, *, consent_recorded: bool) -> bool:
    """Move the family to the partner this text joins, if another; True when it moved."""
    partner_id = partner_for(turn.session, keyword=keyword, to_number=turn.inbound.to_number)
    if partner_id is None:
        return False
    evidence = Evidence(
        source="keyword",
        text=turn.inbound.body,
        keyword=keyword.word if keyword is not None else None,
        inbound=turn.inbound,
    )
    return lifecycle.change_partner(
        turn.session,
        turn.caregiver,
        partner_id=partner_id,
        evidence=evidence,
        now=turn.now,
        consent=not consent_recorded,
    )


def prompt(turn: Turn) -> str:
    """The question the caregiver is on, asked again as it was first asked."""
    step, data = turn.caregiver.conversation_step, turn.data
    if step == LANGUAGE:
        return turn.texts.render("choose_language")
    if step == NAME:
        return turn.texts.render("ask_name_add" if data.get("mode") == ADD else "ask_name")
    if step == BIRTH:
        if "invited_birth" in data:
            return _confirm_birth(turn, first=False)
        key = "ask_birth_update" if data.get("mode") == AGE else "ask_birth"
        return turn.texts.render(key, child=data.get("name"))
    return turn.texts.render("ask_schedule")


def answer(turn: Turn, body: str, *, keyword: Keyword | None = None) -> str:
    """Take `body` as the answer to the current step and return the next text to send.

    `keyword` is the command word `body` is, if any: LANG switches the language mid-way, and
    no command word is taken for a child's name.
    """
    step = turn.caregiver.conversation_step
    if keyword is not None and keyword.kind is Kind.LANGUAGE:
        return _switch_language(turn, keyword)
    if step == LANGUAGE:
        return _answer_language(turn, body)
    if step == NAME:
        return _answer_name(turn, "" if keyword is not None else body)
    if step == BIRTH:
        return _answer_birth(turn, body)
    if step == SCHEDULE:
        return _answer_schedule(turn, body)
    # An unknown step (e.g. data edited by hand): start over rather than guess, without
    # un-enrolling someone who is already getting tips.
    if turn.caregiver.status == Status.ENROLLING:
        return begin_enrollment(turn, None)
    turn.go(None)
    return turn.texts.render("already_enrolled")


def _switch_language(turn: Turn, keyword: Keyword) -> str:
    """LANG / IDIOMA during a conversation: switch (to the one named, or the next one) and
    ask the current question again in it."""
    chosen = parse_language(keyword.argument) if keyword.argument else None
    turn.caregiver.language = chosen or next_language(turn.caregiver.language)
    return prompt(turn)


def _wrong(turn: Turn, retry_key: str, **values: Any) -> str | None:
    """Count a wrong answer: the re-ask text, or None once the default must be taken."""
    tries = int(turn.data.get("tries", 0)) + 1
    if tries > MAX_REASKS:
        return None
    turn.update(tries=tries)
    return turn.texts.render(retry_key, **values)


def _answer_language(turn: Turn, body: str) -> str:
    mode = turn.data.get("mode", ENROLL)
    language = parse_language(body)
    if language is None:
        retry = _wrong(turn, "choose_language_retry")
        if retry is not None:
            return retry
        if mode == ENROLL:
            return _first_question(turn, _invited(turn.data), fallback=True)
        turn.go(None)
        return turn.texts.render("language_unchanged")
    turn.caregiver.language = language
    if mode == ENROLL:
        return _first_question(turn, _invited(turn.data))
    turn.go(None)
    return turn.texts.render("language_updated")


def _answer_name(turn: Turn, body: str) -> str:
    mode, invited = turn.data.get("mode", ENROLL), _invited(turn.data)
    name = parse_name(body)
    if name is None:
        retry = _wrong(turn, "ask_name_retry")
        if retry is not None:
            return retry
        turn.go(BIRTH, mode=mode, name=None, **invited)
        if "invited_birth" in invited:
            return _confirm_birth(turn, first=False)
        return turn.texts.render("name_default")
    chosen = None if name is SKIP else str(name)
    turn.go(BIRTH, mode=mode, name=chosen, **invited)
    if "invited_birth" in invited:
        return _confirm_birth(turn, first=False)
    return turn.texts.render("ask_birth", child=chosen)


def _is_yes(body: str) -> bool:
    words = fold(body).split()
    return bool(words) and words[0] in SOFT_OPT_IN_WORDS


_BIRTH_RETRY = {
    BirthProblem.UNREADABLE: "ask_birth_retry",
    BirthProblem.TOO_OLD: "birth_too_old",
    BirthProblem.TOO_FAR: "birth_too_far",
}


def _answer_birth(turn: Turn, body: str) -> str:
    data = turn.data
    mode, name = data.get("mode", ENROLL), data.get("name")
    found = parse_birth(body, today=turn.today, language=turn.caregiver.language)
    if isinstance(found, BirthProblem) and "invited_birth" in data and _is_yes(body):
        # A date in the answer wins; a plain yes takes the invitation's.
        found = Birth(
            date.fromisoformat(data["invited_birth"]),
            is_expected=bool(data.get("invited_expected")),
        )
    if isinstance(found, BirthProblem):
        retry = _wrong(turn, _BIRTH_RETRY[found])
        if retry is not None:
            return retry
        if mode == AGE:
            turn.go(None)
            return turn.texts.render("age_unchanged", child=name)
        # No usable date after all the tries: newborn tips are the least wrong start.
        found = Birth(turn.today, is_expected=False)
        fallback = True
    else:
        fallback = False
    if mode == ENROLL:
        turn.go(
            SCHEDULE,
            mode=ENROLL,
            name=name,
            birth=found.date.isoformat(),
            expected=found.is_expected,
        )
        return turn.texts.render("birth_default" if fallback else "ask_schedule")
    if mode == AGE:
        child = turn.session.get(Child, data.get("child_id"))
        turn.go(None)
        if child is None or child.caregiver_id != turn.caregiver.id:
            return add_child(turn)
        child.birth_date, child.is_expected = found.date, found.is_expected
        return turn.texts.render("age_updated", child=child.name)
    _create_child(turn, name, found)
    turn.go(None)
    lifecycle.add_child(turn.session, turn.caregiver, now=turn.now)
    return turn.texts.render("child_added_default" if fallback else "child_added", child=name)


def _create_child(turn: Turn, name: str | None, birth: Birth) -> Child:
    child = Child(
        caregiver_id=turn.caregiver.id,
        name=name,
        birth_date=birth.date,
        is_expected=birth.is_expected,
        status="active",
        created_at=turn.now,
    )
    turn.session.add(child)
    return child


def _answer_schedule(turn: Turn, body: str) -> str:
    data = turn.data
    choice = parse_schedule(body)
    fallback = False
    if choice is None:
        retry = _wrong(turn, "ask_schedule_retry")
        if retry is not None:
            return retry
        if data.get("mode") != ENROLL:
            turn.go(None)
            return turn.texts.render("schedule_unchanged", when=turn.when())
        choice, fallback = DEFAULT_SCHEDULE, True
    caregiver = turn.caregiver
    caregiver.send_weekday, caregiver.send_hour = choice
    if data.get("mode") != ENROLL:
        turn.go(None)
        return turn.texts.render("schedule_updated", when=turn.when())
    return _finish_enrollment(turn, data, default_schedule=fallback)


def _finish_enrollment(turn: Turn, data: dict[str, Any], *, default_schedule: bool) -> str:
    caregiver = turn.caregiver
    birth = Birth(date.fromisoformat(data["birth"]), is_expected=bool(data.get("expected")))
    _create_child(turn, data.get("name"), birth)
    turn.go(None)
    key = "enrolled_default_schedule" if default_schedule else "enrolled"
    confirmation = turn.texts.render(key, when=turn.when())
    # The confirmation states program, frequency and costs: it is the consent on record.
    evidence = Evidence(
        source="enrollment", keyword=caregiver.enrollment_keyword, text=confirmation
    )
    lifecycle.finish_enrollment(turn.session, caregiver, evidence=evidence, now=turn.now)
    return confirmation


def add_child(turn: Turn) -> str:
    """Ask for another child's name (ADD, or AGE with no child on record)."""
    turn.go(NAME, mode=ADD)
    return turn.texts.render("ask_name_add")
