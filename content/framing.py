"""Asset framing: find deficit words and phrasings (content/rules/<language>.yaml) in a text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from content.library import DEFAULT_ROOT


@dataclass(frozen=True)
class FramingRule:
    """Deficit phrasings (as patterns) and the asset-framed alternative to suggest."""

    terms: tuple[str, ...]
    pattern: re.Pattern[str]
    suggest: str


@dataclass(frozen=True)
class FramingHit:
    """One deficit phrasing found in a text."""

    found: str  # the words as they appear in the text
    suggest: str


class RulesError(Exception):
    """A rules file that cannot be used; the message names the file and the problem."""


def fold(text: str) -> str:
    """Lowercase, accents removed, typographic apostrophes made plain: what rules match on.

    Every character maps to exactly one, so positions in the folded text are positions in the
    original text too.
    """
    folded = []
    for original in text:
        char = original.lower()[:1]  # "İ".lower() is two characters; keep one
        if char in "’‘ʼ":
            folded.append("'")
            continue
        base = unicodedata.normalize("NFKD", char)[:1]
        folded.append(base if base.isalnum() else char)
    return "".join(folded)


def compile_terms(terms: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a rule's terms: whole words, spaces match spaces or hyphens, * inflects."""
    alternatives = []
    for term in terms:
        words = []
        for word in fold(term).split():
            stem = word.removesuffix("*")
            words.append(re.escape(stem) + (r"\w*" if word.endswith("*") else ""))
        alternatives.append(r"[\s\-]+".join(words))
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def parse_rules(data: object, source: str) -> tuple[FramingRule, ...]:
    """Rules from a parsed rules file: `rules: [{match: [...], suggest: ...}, ...]`."""
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RulesError(f"{source}: expected `language:` and a `rules:` list")
    rules = []
    for number, raw in enumerate(data["rules"], start=1):
        terms = raw.get("match") if isinstance(raw, dict) else None
        suggest = raw.get("suggest") if isinstance(raw, dict) else None
        if not (
            isinstance(terms, list)
            and terms
            and all(isinstance(term, str) and term.strip() for term in terms)
            and isinstance(suggest, str)
        ):
            raise RulesError(
                f"{source}: rule {number} needs `match` (a list of text) and `suggest`"
            )
        rules.append(FramingRule(tuple(terms), compile_terms(tuple(terms)), suggest))
    return tuple(rules)


@cache
def read_rules_file(language: str, root: Path = DEFAULT_ROOT) -> tuple[object, str]:
    """The parsed root/rules/<language>.yaml and its path, for the framing and safety rules."""
    path = root / "rules" / f"{language}.yaml"
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")), str(path)
    except (OSError, yaml.YAMLError) as error:
        raise RulesError(f"{path}: {' '.join(str(error).split())}") from None


@cache
def load_rules(language: str, root: Path = DEFAULT_ROOT) -> tuple[FramingRule, ...]:
    """The framing rules of one language, from root/rules/<language>.yaml."""
    return parse_rules(*read_rules_file(language, root))


def find_deficits(text: str, rules: tuple[FramingRule, ...]) -> list[FramingHit]:
    """Every deficit phrasing in `text`, in order of appearance."""
    folded = fold(text)
    hits = [
        (match.start(), FramingHit(text[match.start() : match.end()], rule.suggest))
        for rule in rules
        for match in rule.pattern.finditer(folded)
    ]
    return [hit for _, hit in sorted(hits, key=lambda pair: pair[0])]
