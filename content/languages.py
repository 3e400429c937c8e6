"""The languages the service speaks, read from content/languages/<code>.yaml: words, not code."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

# The content folder: the shipped one, or SMS_TIPS_CONTENT_DIR (a program's own copy, or a
# test's fixture language). content is the bottom layer, so it reads this one variable itself;
# core.settings checks it too, so a wrong path is a one-line error at start.
CONTENT_DIR_VARIABLE = "SMS_TIPS_CONTENT_DIR"
SHIPPED_ROOT = Path(__file__).resolve().parent
DEFAULT_LANGUAGE = "en"  # a new phone number is asked in this language first
CODE = re.compile(r"^[a-z]{2,3}$")
KEYWORD_KINDS = (
    *("opt_out", "opt_in", "help", "pause", "resume", "time", "language", "age", "add"),
    "support",
)
WORD_LISTS = ("due", "skip", "newborn", "morning", "evening", "filler")
UNITS = ("days", "weeks", "months", "years")


class LanguageError(ValueError):
    """A language file that the service cannot use, with the file and what is wrong."""


def content_root() -> Path:
    """The content folder in use."""
    configured = os.environ.get(CONTENT_DIR_VARIABLE, "").strip()
    return Path(configured).resolve() if configured else SHIPPED_ROOT


@dataclass(frozen=True)
class Score:
    """One textstat reading score and the value a text must reach."""

    method: str  # a textstatistics method, e.g. flesch_kincaid_grade
    name: str
    limit: float
    at_most: bool  # a grade must stay at most the limit; an ease score reach at least it

    def passes(self, value: float) -> bool:
        return value <= self.limit if self.at_most else value >= self.limit

    def describe(self, value: float) -> str:
        bound = "at most" if self.at_most else "at least"
        return f"{self.name} {value:.2f} ({bound} {self.limit:g})"


@dataclass(frozen=True)
class Language:
    """One language: its name, how parents name it and the words they use for commands."""

    code: str
    name: str
    menu_answers: tuple[str, ...]
    day_first: bool  # 14/3/2025 rather than 3/14/2025
    baby: str  # {child} without a name, under 52 weeks
    toddler: str
    enroll_keywords: tuple[str, ...]
    keywords: Mapping[str, tuple[str, ...]]  # kind -> words
    soft_opt_in: tuple[str, ...]
    opt_out_phrases: tuple[str, ...]  # regular expressions over folded text
    polite_before: tuple[str, ...]
    polite_after: tuple[str, ...]
    numbers: Mapping[str, int]  # one to twelve
    months: Mapping[str, int]  # January is 1
    weekdays: Mapping[str, int]  # Monday is 0
    units: Mapping[str, str]  # word -> days, weeks, months or years
    words: Mapping[str, tuple[str, ...]]  # WORD_LISTS
    textstat_language: str  # for textstat.set_lang
    reading_scores: tuple[Score, ...]  # a text reads easily enough when any of them passes


def _words(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(word, str) and word for word in value):
        raise LanguageError(f"{where}: expected a list of words")
    return tuple(str(word).upper() for word in value)


def _numbered(value: Any, where: str, low: int, high: int) -> dict[str, int]:
    if not isinstance(value, dict) or not all(
        isinstance(word, str) and isinstance(number, int) and low <= number <= high
        for word, number in value.items()
    ):
        raise LanguageError(f"{where}: expected WORD: number pairs from {low} to {high}")
    return {word.upper(): number for word, number in value.items()}


def parse_language(data: Any, file: str) -> Language:
    """A Language from one file's YAML, or LanguageError naming the file and the field."""
    if not isinstance(data, dict):
        raise LanguageError(f"{file}: expected a mapping")

    def field(key: str, kind: type) -> Any:
        value = data.get(key)
        if not isinstance(value, kind):
            raise LanguageError(f"{file}: `{key}` is missing or not a {kind.__name__}")
        return value

    code = field("code", str)
    if not CODE.match(code) or Path(file).stem != code:
        raise LanguageError(f"{file}: `code` must be 2-3 lower-case letters, the file's name")
    names = field("fallback_names", dict)
    keywords = field("keywords", dict)
    words = field("words", dict)
    units = words.get("units") or {}
    for phrase in data.get("opt_out_phrases") or []:
        try:
            re.compile(phrase)
        except (re.error, TypeError) as error:
            raise LanguageError(f"{file}: opt_out_phrases: {phrase!r}: {error}") from None
    reading = field("reading_level", dict)
    scores = tuple(_score(each, f"{file}: reading_level") for each in reading.get("pass_any") or [])
    if not scores or not isinstance(reading.get("textstat"), str):
        raise LanguageError(f"{file}: reading_level needs `textstat` and `pass_any` scores")
    return Language(
        code=code,
        name=field("name", str),
        menu_answers=_words(field("menu_answers", list), f"{file}: menu_answers"),
        day_first=field("day_first", bool),
        baby=str(names.get("baby") or ""),
        toddler=str(names.get("toddler") or ""),
        enroll_keywords=_words(field("enroll_keywords", list), f"{file}: enroll_keywords"),
        keywords={
            kind: _words(keywords.get(kind, []), f"{file}: keywords.{kind}")
            for kind in KEYWORD_KINDS
        },
        soft_opt_in=_words(data.get("soft_opt_in", []), f"{file}: soft_opt_in"),
        opt_out_phrases=tuple(data.get("opt_out_phrases") or ()),
        polite_before=_words(data.get("polite_before", []), f"{file}: polite_before"),
        polite_after=_words(data.get("polite_after", []), f"{file}: polite_after"),
        numbers=_numbered(words.get("numbers", {}), f"{file}: words.numbers", 1, 12),
        months=_numbered(words.get("months", {}), f"{file}: words.months", 1, 12),
        weekdays=_numbered(words.get("weekdays", {}), f"{file}: words.weekdays", 0, 6),
        units={
            word: unit
            for unit in UNITS
            for word in _words(units.get(unit, []), f"{file}: words.units.{unit}")
        },
        words={key: _words(words.get(key, []), f"{file}: words.{key}") for key in WORD_LISTS},
        textstat_language=reading["textstat"],
        reading_scores=scores,
    )


def _score(value: Any, where: str) -> Score:
    if not isinstance(value, dict) or not isinstance(value.get("score"), str):
        raise LanguageError(f"{where}: each score needs `score`, `name` and at_most or at_least")
    limits = [(key == "at_most", value[key]) for key in ("at_most", "at_least") if key in value]
    if len(limits) != 1 or not isinstance(limits[0][1], int | float):
        raise LanguageError(f"{where}: {value['score']}: give one number, at_most or at_least")
    at_most, limit = limits[0]
    return Score(value["score"], str(value.get("name") or value["score"]), float(limit), at_most)


@cache
def languages(root: Path | None = None) -> dict[str, Language]:
    """Every language of the content folder, by code, the default language first."""
    folder = (root or content_root()) / "languages"
    found: dict[str, Language] = {}
    for path in sorted(folder.glob("*.yaml")):
        with path.open(encoding="utf-8") as handle:
            language = parse_language(yaml.safe_load(handle), str(path))
        found[language.code] = language
    if DEFAULT_LANGUAGE not in found:
        raise LanguageError(f"{folder}: no {DEFAULT_LANGUAGE}.yaml; the service starts in it")
    return {DEFAULT_LANGUAGE: found.pop(DEFAULT_LANGUAGE), **found}


def codes() -> tuple[str, ...]:
    """The codes of the languages in use, the default first."""
    return tuple(languages())


def next_language(code: str) -> str:
    """The language after `code` in the list (from the last, the first): LANG alone switches
    English and Spanish, and steps through more languages in turn."""
    known = codes()
    return known[(known.index(code) + 1) % len(known)] if code in known else known[0]


def language(code: str) -> Language:
    """The language `code`, or the default one when `code` is not in use."""
    known = languages()
    return known.get(code) or known[DEFAULT_LANGUAGE]


def merged(pick: str) -> dict[str, Any]:
    """One word table over every language (word -> value): `pick` is a Language attribute
    holding a mapping. Two languages giving one word two meanings is an error."""
    table: dict[str, Any] = {}
    for each in languages().values():
        for word, value in getattr(each, pick).items():
            if table.setdefault(word, value) != value:
                raise LanguageError(f"the word {word!r} means {table[word]!r} and {value!r}")
    return table


def all_words(key: str) -> frozenset[str]:
    """Every language's words of one list in `words` (due, skip, newborn...)."""
    return frozenset(word for each in languages().values() for word in each.words[key])
