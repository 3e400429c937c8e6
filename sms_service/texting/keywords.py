"""Recognise keywords in a text: compliance words (STOP, START, HELP), SUPPORT, program and
command words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

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
# Everyday answers that are also opt-in words: they re-subscribe only a number that is not
# subscribed. From a subscribed parent, "Yes!" is a reply to a tip, not a request.
SOFT_OPT_IN_WORDS = frozenset({"YES", "SI"})

# Single words, compared after fold(): upper case, no accents or punctuation.
_WORDS: dict[Kind, dict[str, str | None]] = {
    # word -> language it tells us (None: either)
    Kind.OPT_OUT: {
        "STOP": None, "STOPALL": None, "UNSUBSCRIBE": "en", "CANCEL": "en", "END": "en",
        "QUIT": "en", "REVOKE": "en", "OPTOUT": "en", "OPT-OUT": "en", "OPT OUT": "en",
        "PARAR": "es", "PARA": "es", "ALTO": "es", "BASTA": "es", "CANCELAR": "es",
        "DETENER": "es", "BAJA": "es",
    },
    Kind.OPT_IN: {
        "START": None, "UNSTOP": None, "YES": "en", "SUBSCRIBE": "en",
        "SI": "es", "COMENZAR": "es", "INICIAR": "es", "ALTA": "es",
    },
    Kind.HELP: {"HELP": "en", "INFO": None, "AYUDA": "es", "INFORMACION": "es"},
    Kind.PAUSE: {"PAUSE": "en", "PAUSA": "es", "PAUSAR": "es"},
    Kind.RESUME: {"RESUME": "en", "UNPAUSE": "en", "SEGUIR": "es", "REANUDAR": "es"},
    Kind.TIME: {"TIME": "en", "DAY": "en", "HORA": "es", "HORARIO": "es", "DIA": "es"},
    Kind.LANGUAGE: {"LANG": None, "LANGUAGE": "en", "IDIOMA": "es"},
    Kind.AGE: {"AGE": "en", "BIRTHDAY": "en", "EDAD": "es"},
    Kind.ADD: {"ADD": "en", "AGREGAR": "es", "ANADIR": "es"},
    Kind.SUPPORT: {"SUPPORT": "en", "APOYO": "es"},
}  # fmt: skip

# Plain ways of saying "stop" that are not one keyword; anything else stays a normal reply.
_POLITE = r"(?:PLEASE |POR FAVOR |PLS |PLZ )?"
_POLITE_END = r"(?: PLEASE| POR FAVOR| THANKS| THANK YOU| GRACIAS| NOW| YA)*"
_OPT_OUT_PHRASES_EN = re.compile(
    rf"^{_POLITE}(?:"
    r"(?:STOP|QUIT) (?:TEXTING|MESSAGING|SENDING|TEXT|MESSAGE|TEXTS|MESSAGES)"
    r"(?: ME)?(?: TEXTS| MESSAGES| ANYMORE| THESE| THIS)*"
    r"|NO MORE(?: TEXTS| MESSAGES| TIPS)?"
    r"|DONT TEXT ME(?: ANYMORE)?|DO NOT TEXT ME(?: ANYMORE)?"
    r"|UNSUBSCRIBE ME|REMOVE ME(?: FROM (?:THE|THIS|YOUR) LIST)?"
    r"|TAKE ME OFF(?: (?:THE|THIS|YOUR) LIST)?"
    r"|STOP|STOP ALL|STOP IT|I WANT TO STOP|I QUIT"
    rf"){_POLITE_END}$"
)
_OPT_OUT_PHRASES_ES = re.compile(
    rf"^{_POLITE}(?:"
    r"NO MAS(?: MENSAJES| TEXTOS| CONSEJOS)?"
    r"|YA NO(?: QUIERO)?(?: MAS)?(?: MENSAJES| TEXTOS)?"
    r"|NO QUIERO MAS(?: MENSAJES| TEXTOS)?"
    r"|NO (?:ME )?(?:MANDEN|ENVIEN|ESCRIBAN|MANDES|ENVIES)(?: MAS)?(?: MENSAJES| TEXTOS)?"
    r"|(?:DARME|DAR|DENME) DE BAJA|QUIERO DARME DE BAJA"
    r"|PARAR MENSAJES|DEJEN DE (?:ESCRIBIRME|MANDARME MENSAJES|ENVIARME MENSAJES)"
    rf"){_POLITE_END}$"
)
_TWILIO_OPT_OUT_TYPES = {"STOP": Kind.OPT_OUT, "START": Kind.OPT_IN, "HELP": Kind.HELP}


@dataclass(frozen=True)
class Keyword:
    """A recognised keyword: what it asks, the word as written (upper case), any argument."""

    kind: Kind
    word: str
    language: str | None = None  # the language the word belongs to, when it tells
    argument: str = ""


def classify(body: str, settings: Settings) -> Keyword | None:
    """The keyword `body` is, if any; compliance words win over everything else."""
    folded = fold(body)
    if not folded:
        return None
    for kind in (Kind.OPT_OUT, Kind.OPT_IN, Kind.HELP):
        if folded in _WORDS[kind]:
            return Keyword(kind, folded, _WORDS[kind][folded])
    if _OPT_OUT_PHRASES_EN.match(folded):
        return Keyword(Kind.OPT_OUT, folded, "en")
    if _OPT_OUT_PHRASES_ES.match(folded):
        return Keyword(Kind.OPT_OUT, folded, "es")
    if folded in _WORDS[Kind.SUPPORT]:
        return Keyword(Kind.SUPPORT, folded, _WORDS[Kind.SUPPORT][folded])
    if folded in settings.keywords_en:
        return Keyword(Kind.ENROLL, folded, "en")
    if folded in settings.keywords_es:
        return Keyword(Kind.ENROLL, folded, "es")
    first, _, rest = folded.partition(" ")
    for kind in (Kind.PAUSE, Kind.RESUME, Kind.TIME, Kind.LANGUAGE, Kind.AGE, Kind.ADD):
        if first in _WORDS[kind] and (kind in _TAKES_ARGUMENT or not rest):
            return Keyword(kind, first, _WORDS[kind][first], rest)
    return None


# PAUSE 2 (weeks) and LANG ES carry an argument; the other commands are one word.
_TAKES_ARGUMENT = frozenset({Kind.PAUSE, Kind.LANGUAGE})


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
