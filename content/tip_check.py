"""One tip checked as staff write it: its own rules, its id, weeks and theme, near-duplicates
among its language's other tips, and that language's coverage with the tip in its place."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from content.checker import near_duplicates, tip_rules
from content.coverage import find_gaps, never_received, simulate
from content.findings import Finding
from content.library import FIRST_WEEK, ID_PATTERN, LANGUAGES, LAST_WEEK, Tip
from content.segments import SegmentInfo, analyze

# Which form field a rule's finding belongs beside.
FIELD_OF_RULE = {
    "id": "id",
    "duplicate-id": "id",
    "age-range": "weeks",
    "coverage": "weeks",
    "delivery": "weeks",
    "theme": "theme",
}


@dataclass(frozen=True)
class TipCheck:
    """The findings of one tip, each with the field it belongs to, and its worst-case size."""

    findings: list[tuple[str, Finding]]  # (field, finding)
    reviewed: list[Finding]
    info: SegmentInfo

    @property
    def errors(self) -> list[tuple[str, Finding]]:
        """The findings that refuse a save."""
        return [(field, finding) for field, finding in self.findings if finding.severity == "error"]


def field_of(finding: Finding) -> str:
    """The form field a finding is shown at (the text unless it is about id, weeks or theme)."""
    return FIELD_OF_RULE.get(finding.rule, "text")


def _shape_problems(
    tip: Tip, *, themes: Collection[str], taken_ids: Collection[str]
) -> list[Finding]:
    def problem(rule: str, message: str) -> Finding:
        return Finding(rule, "error", message, tip.file, tip.id)

    problems = []
    if tip.language not in LANGUAGES:
        problems.append(problem("id", f"unknown language {tip.language!r}"))
    if not ID_PATTERN.match(tip.id):
        problems.append(problem("id", "the id must be 1-64 characters of a-z, 0-9 and -"))
    elif not tip.id.startswith(f"{tip.language}-"):
        problems.append(problem("id", f"the id must start with '{tip.language}-'"))
    if tip.id in taken_ids:
        problems.append(problem("duplicate-id", "another tip already has this id"))
    if tip.min_week > tip.max_week:
        problems.append(problem("age-range", "the first week comes after the last"))
    if tip.min_week < FIRST_WEEK or tip.max_week > LAST_WEEK:
        message = f"weeks must be within {FIRST_WEEK}..{LAST_WEEK} (36 months is week 156)"
        problems.append(problem("age-range", message))
    if tip.theme not in themes:
        problems.append(problem("theme", f"unknown theme {tip.theme!r}"))
    if not tip.text.strip():
        problems.append(problem("structure", "the text is empty"))
    return problems


def check_tip(
    tip: Tip,
    *,
    others: Sequence[Tip],
    themes: Collection[str],
    taken_ids: Collection[str] = (),
    coverage: bool = True,
) -> TipCheck:
    """Every rule that can fail `tip`, given the other live tips of its language (`others`,
    without it) and, for a new tip, the ids already used anywhere (`taken_ids`)."""
    shape = _shape_problems(tip, themes=themes, taken_ids=taken_ids)
    if any(f.rule == "structure" for f in shape):
        return TipCheck([(field_of(f), f) for f in shape], [], analyze(""))
    rules = tip_rules(tip)
    findings = shape + rules.findings
    siblings = [other for other in others if other.id != tip.id]
    for later, earlier, ratio in near_duplicates([*siblings, tip]):
        if later.id == tip.id:
            message = f"text is {ratio:.0%} the same as {earlier.id}; say something new"
            findings.append(Finding("near-duplicate", "error", message, tip.file, tip.id))
    if coverage and not any(f.rule == "age-range" for f in shape):
        findings += _coverage_changes(tip, before=list(others), after=[*siblings, tip])
    return TipCheck([(field_of(f), f) for f in findings], rules.reviewed, rules.info)


def _coverage_changes(tip: Tip, *, before: list[Tip], after: list[Tip]) -> list[Finding]:
    """Gaps the change opens, and tips (this one or others) no family would receive anymore."""
    old_gaps = {gap.describe() for gap in find_gaps(before)}
    old_never = {other.id for other in never_received(before, simulate(before))}
    delivery = simulate(after)
    findings = [
        Finding("coverage", "error", gap.describe(), tip.file, tip.id)
        for gap in find_gaps(after, delivery)
        if gap.describe() not in old_gaps
    ]
    for lost in never_received(after, delivery):
        if lost.id == tip.id:
            message = "no family would receive this tip: a tip that closes sooner always waits"
        elif lost.id not in old_never:
            message = f"with this range no family would receive {lost.id} anymore; move one"
        else:
            continue
        findings.append(Finding("delivery", "error", message, tip.file, tip.id))
    return findings


def with_text(tip: Tip, text: str) -> Tip:
    """The tip with another text, spaces folded as the tip files fold them."""
    return replace(tip, text=" ".join(text.split()))


def retirement_gaps(tip: Tip, *, live: Sequence[Tip]) -> list[Finding]:
    """The coverage gaps retiring `tip` would open among the live tips of its language."""
    before = {gap.describe() for gap in find_gaps(live)}
    remaining = [other for other in live if other.id != tip.id]
    return [
        Finding("coverage", "error", gap.describe(), tip.file, tip.id)
        for gap in find_gaps(remaining)
        if gap.describe() not in before
    ]
