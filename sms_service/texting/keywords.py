"""Recognise keywords in a text: compliance words (STOP, START, HELP), SUPPORT, program and
command words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import bindparam, case, or_, select
from sqlalchemy.orm import Session

from content.catalogs import LONGEST_KEYWORD
from content.languages import Language, languages
from sms_service.caregivers.partnership import DEFAULT_PARTNER_SLUG, default_partner_id
from sms_service.core.models import Partner, PartnerKeyword
from sms_service.core.settings import Settings
from sms_service.texting.answers import fold


class Kind(Enum):
    """What a keyword asks for."""

    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    ENROLL = "enroll"
    PAUSE = "pause"
    RESUME = "resume"
    TIME = "time"
    LANGUAGE = "language"
    AGE = "age"
    ADD = "add"
    SUPPORT = "support"


COMPLIANCE = frozenset({Kind.OPT_OUT, Kind.OPT_IN, Kind.HELP})
# Words carriers and Twilio treat as the same in every language: they tell no language.
_ANY_LANGUAGE: dict[Kind, tuple[str, ...]] = {
    Kind.OPT_OUT: ("STOP", "STOPALL"),
    Kind.OPT_IN: ("START", "UNSTOP"),
    Kind.HELP: ("INFO",),
    Kind.LANGUAGE: ("LANG",),
}


def _word_table() -> dict[Kind, dict[str, str | None]]:
    """kind -> word -> the language it tells (None: any), from content/languages/."""
    table: dict[Kind, dict[str, str | None]] = {kind: {} for kind in Kind if kind != Kind.ENROLL}
    for each in languages().values():
        for kind_name, words in each.keywords.items():
            for word in words:
                known = table[Kind(kind_name)]
                # A word two languages share (PAUSA, DIA) tells neither.
                known[word] = None if word in known and known[word] != each.code else each.code
    for kind, words in _ANY_LANGUAGE.items():
        table[kind].update(dict.fromkeys(words))
    return table


# Single words, compared after fold(): upper case, no accents or punctuation.
_WORDS = _word_table()
# Everyday answers that are also opt-in words: they re-subscribe only a number that is not
# subscribed. From a subscribed parent, "Yes!" is a reply to a tip, not a request.
SOFT_OPT_IN_WORDS = frozenset(word for each in languages().values() for word in each.soft_opt_in)


def _phrases(each: Language) -> re.Pattern[str] | None:
    """Plain ways of saying "stop" in one language that are not one keyword (anything else
    stays a normal reply), with polite words around them in any language."""
    if not each.opt_out_phrases:
        return None
    before = sorted({word for other in languages().values() for word in other.polite_before})
    after = sorted({word for other in languages().values() for word in other.polite_after})
    polite = f"(?:(?:{'|'.join(map(re.escape, before))}) )?" if before else ""
    polite_end = f"(?: (?:{'|'.join(map(re.escape, after))}))*" if after else ""
    return re.compile(rf"^{polite}(?:{'|'.join(each.opt_out_phrases)}){polite_end}$")


_OPT_OUT_PHRASES = {
    each.code: pattern for each in languages().values() if (pattern := _phrases(each)) is not None
}
_TWILIO_OPT_OUT_TYPES = {"STOP": Kind.OPT_OUT, "START": Kind.OPT_IN, "HELP": Kind.HELP}


@dataclass(frozen=True)
class Keyword:
    """A recognised keyword: what it asks, the word as written (upper case), any argument."""

    kind: Kind
    word: str
    language: str | None = None  # the language the word belongs to, when it tells
    argument: str = ""
    partner_id: int | None = None  # an enrollment keyword of this partner (not the program's)


def classify(body: str, settings: Settings) -> Keyword | None:
    """The keyword `body` is, if any; compliance words win over everything else."""
    folded = fold(body)
    if not folded:
        return None
    for kind in (Kind.OPT_OUT, Kind.OPT_IN, Kind.HELP):
        if folded in _WORDS[kind]:
            return Keyword(kind, folded, _WORDS[kind][folded])
    for code, phrases in _OPT_OUT_PHRASES.items():
        if phrases.match(folded):
            return Keyword(Kind.OPT_OUT, folded, code)
    if folded in _WORDS[Kind.SUPPORT]:
        return Keyword(Kind.SUPPORT, folded, _WORDS[Kind.SUPPORT][folded])
    for code, words in settings.keywords.items():
        if folded in words:
            return Keyword(Kind.ENROLL, folded, code)
    first, _, rest = folded.partition(" ")
    for kind in (Kind.PAUSE, Kind.RESUME, Kind.TIME, Kind.LANGUAGE, Kind.AGE, Kind.ADD):
        if first in _WORDS[kind] and (kind in _TAKES_ARGUMENT or not rest):
            return Keyword(kind, first, _WORDS[kind][first], rest)
    return None


# PAUSE 2 (weeks) and LANG ES carry an argument; the other commands are one word.
_TAKES_ARGUMENT = frozenset({Kind.PAUSE, Kind.LANGUAGE})


# The shape of a partner keyword: one word, a letter first (apart from the numbered menu
# answers), no longer than the invitations' checked longest. Anything else needs no query.
PARTNER_WORD = re.compile(rf"^[A-Z][A-Z0-9-]{{2,{len(LONGEST_KEYWORD) - 1}}}$")


def partner_word(body: str) -> str | None:
    """`body` folded as a partner keyword would be written, when it has a keyword's shape (one
    word, a letter first); None: no partner keyword can be this text, nothing to look up."""
    folded = fold(body).replace(" ", "-")
    return folded if PARTNER_WORD.match(folded) else None


def partner_keyword(session: Session, word: str) -> Keyword | None:
    """The partner enrollment keyword `word` (from partner_word) is, if any."""
    found = session.execute(_PARTNER_KEYWORD, {"word": word}).first()
    if found is None:
        return None
    return found_keyword(word, partner_id=found.partner_id, language=found.language)


def found_keyword(word: str, *, partner_id: int, language: str) -> Keyword:
    """A partner's enrollment keyword as found in partner_keyword (their words never clash
    with ours)."""
    return Keyword(Kind.ENROLL, word, language, partner_id=partner_id)


def partner_for(session: Session, *, keyword: Keyword | None, to_number: str) -> int | None:
    """The partner a text joins: its keyword's, else the one whose own number it was sent to
    (None: the program's own keyword or number, which keeps a family where it is)."""
    if keyword is not None and keyword.partner_id is not None:
        return keyword.partner_id
    if not to_number:
        return None
    return session.scalar(_PARTNER_BY_SENDER, {"sender": to_number})


def partner_of_new_family(
    session: Session, *, keyword: Keyword | None, to_number: str, now: datetime
) -> Partner:
    """The partner a number we never saw joins, loaded whole (its first reply names it):
    `partner_for`'s, else the default partner. Found with one query."""
    if keyword is not None and keyword.partner_id is not None:
        found = session.get(Partner, keyword.partner_id)
    else:
        found = session.scalars(_NEW_FAMILY_PARTNER, {"sender": to_number or None}).first()
    if found is None:  # an emptied database: the default partner is made again
        found = session.get_one(Partner, default_partner_id(session, now=now))
    return found


# Built once, the values passed as parameters: these run for most texts.
_PARTNER_KEYWORD = select(PartnerKeyword.partner_id, PartnerKeyword.language).where(
    PartnerKeyword.word == bindparam("word")
)
_PARTNER_BY_SENDER = select(Partner.id).where(Partner.sender == bindparam("sender"))
# The partner whose own number was texted, else the default one (NULL sender: the default).
_NEW_FAMILY_PARTNER = (
    select(Partner)
    .where(or_(Partner.sender == bindparam("sender"), Partner.slug == DEFAULT_PARTNER_SLUG))
    .order_by(case((Partner.sender == bindparam("sender"), 0), else_=1))
    .limit(1)
)


def from_opt_out_type(value: str | None) -> Kind | None:
    """The compliance action Twilio's Advanced Opt-Out already took (its OptOutType field)."""
    if not value:
        return None
    return _TWILIO_OPT_OUT_TYPES.get(value.strip().upper())


def compliance_words() -> dict[Kind, tuple[str, ...]]:
    """Every single compliance word, for the README table and the tests."""
    return {kind: tuple(_WORDS[kind]) for kind in (Kind.OPT_OUT, Kind.OPT_IN, Kind.HELP)}


def command_words() -> dict[Kind, tuple[str, ...]]:
    """Every command word an enrolled caregiver may use (SUPPORT is answered to anyone too)."""
    kinds = (Kind.PAUSE, Kind.RESUME, Kind.TIME, Kind.LANGUAGE, Kind.AGE, Kind.ADD, Kind.SUPPORT)
    return {kind: tuple(_WORDS[kind]) for kind in kinds}


def builtin_meaning(word: str, settings: Settings) -> str | None:
    """What the folded `word` already means to the service, if anything: a partner keyword may
    be none of these (a compliance word, a command, an enrollment keyword, an answer word)."""
    keyword = classify(word, settings)
    if keyword is not None and keyword.kind is Kind.ENROLL:
        return "the program's own enrollment keyword"
    if keyword is not None:
        return f"a built-in keyword ({keyword.kind.value.replace('_', ' ')})"
    if word in SOFT_OPT_IN_WORDS:
        return "a built-in keyword (opt in)"
    for each in languages().values():
        answers = {
            *each.menu_answers,
            *each.numbers,
            *each.months,
            *each.weekdays,
            *each.units,
            *(word for words in each.words.values() for word in words),
        }
        if word in answers:
            return f"an answer word in {each.name} (the enrollment questions read it)"
    return None
