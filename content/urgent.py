"""Crisis words in a parent's text (content/rules/urgent.yaml), and the support lines to offer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from content.framing import RulesError, compile_terms, fold
from content.languages import DEFAULT_LANGUAGE
from content.library import DEFAULT_ROOT


@dataclass(frozen=True)
class UrgentRules:
    """Every language's crisis phrases as one pattern, and each language's support lines."""

    pattern: re.Pattern[str]
    support_lines: dict[str, str]


@cache
def load_urgent_rules(root: Path = DEFAULT_ROOT) -> UrgentRules:
    """The reviewed phrase list, from root/rules/urgent.yaml."""
    path = root / "rules" / "urgent.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RulesError(f"{path}: {' '.join(str(error).split())}") from None
    phrases = data.get("phrases") if isinstance(data, dict) else None
    lines = data.get("support_lines") if isinstance(data, dict) else None
    if not isinstance(phrases, dict) or not isinstance(lines, dict):
        raise RulesError(f"{path}: expected `phrases:` and `support_lines:` by language")
    terms = tuple(
        term
        for language_terms in phrases.values()
        for term in (language_terms or [])
        if isinstance(term, str) and term.strip()
    )
    if not terms:
        raise RulesError(f"{path}: no phrases")
    return UrgentRules(compile_terms(terms), {str(k): str(v) for k, v in lines.items()})


def is_urgent(text: str, rules: UrgentRules | None = None) -> bool:
    """Whether `text` has a phrase that suggests a crisis, in any language."""
    rules = rules or load_urgent_rules()
    return rules.pattern.search(fold(text)) is not None


def support_lines(language: str, rules: UrgentRules | None = None) -> str:
    """The support lines for staff to offer a family of `language` (else the default language's)."""
    rules = rules or load_urgent_rules()
    return rules.support_lines.get(language) or rules.support_lines[DEFAULT_LANGUAGE]
