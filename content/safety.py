"""Safety rules: a tip naming a risky context (water, sleep, small objects...) carries its clause.

The rules are data, the `safety:` section of content/rules/<language>.yaml, each with its source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from content.framing import RulesError, compile_terms, fold, read_rules_file
from content.library import DEFAULT_ROOT, FIRST_WEEK, LAST_WEEK, Tip

RULE_KEYS = frozenset({"rule", "source", "weeks", "context", "clauses", "add"})


@dataclass(frozen=True)
class SafetyRule:
    """A risky context, the clauses a tip naming it must carry, and the guidance they follow."""

    key: str
    source: str
    first_week: int
    last_week: int
    context: re.Pattern[str]
    clauses: tuple[re.Pattern[str], ...]  # every group must match at least once
    add: str

    def applies_to(self, tip: Tip) -> bool:
        """Whether the tip is sent at an age this rule covers."""
        return tip.min_week <= self.last_week and tip.max_week >= self.first_week


@dataclass(frozen=True)
class SafetyGap:
    """A tip that names a rule's context without the rule's clause."""

    rule: SafetyRule
    found: str  # the context words as they appear in the tip

    def describe(self) -> str:
        """The line the checker prints: what was found, what to add, and on whose advice."""
        return f"{self.found!r} needs a safety clause: {self.rule.add} ({self.rule.source})"


def _terms(value: object) -> tuple[str, ...] | None:
    if isinstance(value, list) and value and all(isinstance(t, str) and t.strip() for t in value):
        return tuple(value)
    return None


def _parse_rule(raw: object, where: str) -> SafetyRule:
    if not isinstance(raw, dict) or set(map(str, raw)) != RULE_KEYS:
        raise RulesError(f"{where} needs exactly {', '.join(sorted(RULE_KEYS))}")
    weeks, context = raw["weeks"], _terms(raw["context"])
    groups = [_terms(group) for group in raw["clauses"]] if isinstance(raw["clauses"], list) else []
    if not (
        isinstance(raw["rule"], str)
        and all(isinstance(raw[key], str) and raw[key].strip() for key in ("source", "add"))
        and isinstance(weeks, list)
        and len(weeks) == 2
        and all(isinstance(week, int) for week in weeks)
        and FIRST_WEEK <= weeks[0] <= weeks[1] <= LAST_WEEK
        and context is not None
        and groups
        and all(group is not None for group in groups)
    ):
        raise RulesError(
            f"{where}: `rule`, `source` and `add` are text, `weeks` is [first, last] within "
            f"{FIRST_WEEK}..{LAST_WEEK}, `context` a list of text, `clauses` a list of lists"
        )
    return SafetyRule(
        key=raw["rule"],
        source=raw["source"],
        first_week=weeks[0],
        last_week=weeks[1],
        context=compile_terms(context),
        clauses=tuple(compile_terms(group) for group in groups if group is not None),
        add=raw["add"],
    )


def parse_safety(data: object, source: str) -> tuple[SafetyRule, ...]:
    """The rules of a parsed rules file's `safety:` list (none when the file has no section)."""
    raw_rules = data.get("safety", []) if isinstance(data, dict) else None
    if not isinstance(raw_rules, list):
        raise RulesError(f"{source}: `safety:` must be a list of rules")
    rules = [
        _parse_rule(raw, f"{source}: safety rule {number}")
        for number, raw in enumerate(raw_rules, start=1)
    ]
    keys = [rule.key for rule in rules]
    if len(set(keys)) != len(keys):
        raise RulesError(f"{source}: two safety rules share a `rule` name")
    return tuple(rules)


@cache
def load_safety(language: str, root: Path = DEFAULT_ROOT) -> tuple[SafetyRule, ...]:
    """The safety rules of one language, from root/rules/<language>.yaml."""
    return parse_safety(*read_rules_file(language, root))


def find_safety_gaps(tip: Tip, rules: tuple[SafetyRule, ...]) -> list[SafetyGap]:
    """Each rule whose context the tip names, at an age it covers, without every clause."""
    folded = fold(tip.text)
    gaps = []
    for rule in rules:
        found = rule.context.search(folded)
        if found is None or not rule.applies_to(tip):
            continue
        if not all(clause.search(folded) for clause in rule.clauses):
            gaps.append(SafetyGap(rule, tip.text[found.start() : found.end()]))
    return gaps
