"""Which conversation owns a parent's next text: commands, then enrollment, a survey, the inbox.

A text is read by exactly one owner, the first in CLAIMS that claims it. Digits and YES mean
different things to different owners ("2" is a schedule at the enrollment's last question and
an answer to a survey question; YES is an opt-in to Twilio and an answer to a yes/no question),
so the order is the contract, written once here and tested as a table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import cached_property

from sms_service.core.models import CaregiverStatus as Status
from sms_service.surveys.questions import OpenQuestion
from sms_service.texting.keywords import COMPLIANCE, SOFT_OPT_IN_WORDS, Keyword, Kind


class Owner(Enum):
    """Who reads a text."""

    COMMAND = "command"  # STOP/START/HELP, SUPPORT, the program keyword, PAUSE, TIME, AGE...
    ENROLLMENT = "enrollment"  # the enrollment questions, and AGE/TIME/LANG/ADD follow-ups
    SURVEY = "survey"  # the answer to the survey question that is out
    INBOX = "inbox"  # the parent's own words: a person reads them


@dataclass
class Facts:
    """What decides the owner: the words the text is, and where the family is."""

    status: str
    conversation_step: str | None
    keyword: Keyword | None
    twilio_kind: Kind | None  # what Twilio's Advanced Opt-Out already did (OptOutType)
    # The survey question that is out, if any: looked up only when a command or the
    # enrollment has not claimed the text already (most texts never need the query).
    find_question: Callable[[], OpenQuestion | None] = lambda: None

    @cached_property
    def question(self) -> OpenQuestion | None:
        """The open survey question (its window not passed), looked up once."""
        return self.find_question()


def without_soft_opt_in(
    *, status: str, conversation_step: str | None, keyword: Keyword | None, twilio_kind: Kind | None
) -> tuple[Keyword | None, Kind | None]:
    """YES from a subscribed (or paused) parent, or mid-enrollment, is an everyday answer, not
    an opt-in: Twilio's Advanced Opt-Out tags it START too, and a pause must not end for it."""
    in_program = status in {Status.ACTIVE, Status.PAUSED} or (
        status == Status.ENROLLING and conversation_step is not None
    )
    if (
        twilio_kind in (None, Kind.OPT_IN)
        and keyword is not None
        and keyword.word in SOFT_OPT_IN_WORDS
        and in_program
    ):
        return None, None
    return keyword, twilio_kind


def _is_command(facts: Facts) -> bool:
    kind = facts.keyword.kind if facts.keyword is not None else None
    if facts.twilio_kind is not None or kind in COMPLIANCE:
        return True
    if facts.status == Status.OPTED_OUT:
        return kind is Kind.ENROLL  # texting the program keyword again is asking to rejoin
    if kind in (Kind.SUPPORT, Kind.ENROLL):
        return True
    # Mid-enrollment PAUSE or TIME is read by the enrollment question (it may be an answer).
    return kind is not None and facts.status not in {Status.INVITED, Status.ENROLLING}


def _is_enrollment(facts: Facts) -> bool:
    if facts.status == Status.ENROLLING:
        return True
    return facts.conversation_step is not None and facts.status not in {
        Status.OPTED_OUT,
        Status.INVITED,
    }


def _is_survey_answer(facts: Facts) -> bool:
    return facts.status in {Status.ACTIVE, Status.PAUSED} and facts.question is not None


# Highest claim first; the inbox takes whatever nobody else claims.
CLAIMS: tuple[tuple[Owner, Callable[[Facts], bool]], ...] = (
    (Owner.COMMAND, _is_command),
    (Owner.ENROLLMENT, _is_enrollment),
    (Owner.SURVEY, _is_survey_answer),
    (Owner.INBOX, lambda facts: True),
)


def owner_of(facts: Facts) -> Owner:
    """The first owner in CLAIMS that claims the text."""
    return next(owner for owner, claims in CLAIMS if claims(facts))
