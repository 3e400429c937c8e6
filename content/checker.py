"""The checker every tip, system message and campaign message must pass."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from content.catalogs import check_catalog, default_catalogs, inspect_catalog
from content.coverage import END_WEEK, find_gaps, never_received, simulate
from content.findings import Finding, Severity
from content.framing import fold
from content.library import LANGUAGES, Library, Tip, display_path
from content.message_rules import (
    DEFAULT_PROGRAM,
    WORST_NAME,
    WORST_PROGRAM,
    check_message,
    message_findings,
    placeholder_problems,
)
from content.render import PLACEHOLDERS, fill_placeholders, render_tip
from content.safety import find_safety_gaps, load_safety
from content.segments import SegmentInfo, analyze
from content.sequence import journey

__all__ = [
    "WORST_NAME",
    "WORST_PROGRAM",
    "CheckReport",
    "Finding",
    "LanguageSummary",
    "TipRules",
    "check_catalog",
    "check_library",
    "check_message",
    "default_catalogs",
    "near_duplicates",
    "tip_rules",
]

NEAR_DUPLICATE_RATIO = 0.8  # share of words two tips have in the same order


@dataclass
class LanguageSummary:
    """Figures for one language's tips, printed in the checker's summary table."""

    language: str
    tips: int = 0
    errors: int = 0
    warnings: int = 0
    gsm: int = 0
    ucs2: int = 0
    segments: int = 0  # over all tips, rendered in the worst case
    journey_segments: int = 0  # a child enrolled at birth, weeks 0..155, worst case
    typical_journey_segments: int = 0  # the same with the default program name and no name
    ucs2_chars: Counter[str] = field(default_factory=Counter)  # char -> tips it makes UCS-2

    @property
    def average_segments(self) -> float:
        """Segments per message, averaged over the tips."""
        return self.segments / self.tips if self.tips else 0.0


@dataclass
class CheckReport:
    """Every finding, and the per-language figures."""

    findings: list[Finding] = field(default_factory=list)
    summaries: dict[str, LanguageSummary] = field(default_factory=dict)
    catalogs: dict[str, int] = field(default_factory=dict)  # catalog file -> messages checked
    reviewed: list[Finding] = field(default_factory=list)  # safety exceptions a reviewer allowed

    @property
    def errors(self) -> list[Finding]:
        """The findings that fail the check."""
        return [finding for finding in self.findings if finding.severity == "error"]

    @property
    def ok(self) -> bool:
        """Whether the library and the messages may ship."""
        return not self.errors


def _word_list(text: str) -> list[str]:
    return re.findall(r"\w+", fold(text))


def _near_duplicates(tips: list[Tip]) -> Iterable[tuple[Tip, Tip, float]]:
    """(later tip, earlier tip, ratio) for every pair of texts that say nearly the same."""
    words = [_word_list(tip.text) for tip in tips]
    for later in range(len(tips)):
        matcher = SequenceMatcher(autojunk=False)
        matcher.set_seq2(words[later])
        for earlier in range(later):
            matcher.set_seq1(words[earlier])
            if (
                matcher.real_quick_ratio() >= NEAR_DUPLICATE_RATIO
                and matcher.quick_ratio() >= NEAR_DUPLICATE_RATIO
                and (ratio := matcher.ratio()) >= NEAR_DUPLICATE_RATIO
            ):
                yield tips[later], tips[earlier], ratio


@dataclass(frozen=True)
class TipRules:
    """What the rules of one tip alone found: findings, allowed safety exceptions, segments."""

    findings: list[Finding]
    reviewed: list[Finding]
    info: SegmentInfo  # rendered in the worst case


def tip_rules(tip: Tip) -> TipRules:
    """Placeholders, safety, segments and encoding, framing and reading level of one tip."""
    findings: list[Finding] = []
    reviewed: list[Finding] = []

    def add(rule: str, severity: Severity, message: str) -> None:
        findings.append(Finding(rule, severity, message, tip.file, tip.id))

    for problem in placeholder_problems(tip.text, PLACEHOLDERS, "tips"):
        add("placeholder", "error", problem)
    _check_safety(tip, findings, reviewed)
    age = max(tip.min_week, 0)  # fallbacks: the youngest age the tip is sent at
    info = message_findings(
        full=render_tip(
            tip.text,
            language=tip.language,
            child_name=WORST_NAME,
            age_weeks=age,
            program_name=WORST_PROGRAM,
        ),
        plain=fill_placeholders(tip.text, language=tip.language, child_name=None, age_weeks=age),
        language=tip.language,
        context=(
            f"with a {len(WORST_PROGRAM)}-character program name and a "
            f"{len(WORST_NAME)}-character child name"
        ),
        add=add,
    )
    return TipRules(findings, reviewed, info)


def near_duplicates(tips: list[Tip]) -> Iterable[tuple[Tip, Tip, float]]:
    """(later tip, earlier tip, ratio) for every pair of texts that say nearly the same."""
    return _near_duplicates(tips)


def _check_tips(language: str, tips: list[Tip], report: CheckReport, *, where: str) -> None:
    summary = report.summaries[language]
    worst: dict[str, SegmentInfo] = {}
    for tip in tips:
        rules = tip_rules(tip)
        report.findings.extend(rules.findings)
        report.reviewed.extend(rules.reviewed)
        info = rules.info
        worst[tip.id] = info
        summary.tips += 1
        summary.segments += info.segments
        if info.encoding == "GSM-7":
            summary.gsm += 1
        else:
            summary.ucs2 += 1
            summary.ucs2_chars.update(info.non_gsm)
    for later, earlier, ratio in _near_duplicates(tips):
        message = (
            f"text is {ratio:.0%} the same as {earlier.id} ({earlier.file}); say something new"
        )
        report.findings.append(Finding("near-duplicate", "error", message, later.file, later.id))
    delivery = simulate(tips)
    for gap in find_gaps(tips, delivery):
        report.findings.append(Finding("coverage", "error", gap.describe(), where))
    for tip in never_received(tips, delivery):
        message = (
            f"no family receives this tip: every week of {tip.min_week}..{tip.max_week} a tip "
            "that closes sooner is waiting; narrow or move its range, or drop a tip nearby "
            "(`sms-tips content delivery` shows who gets what)"
        )
        report.findings.append(Finding("delivery", "error", message, tip.file, tip.id))
    for week, picked in journey(tips, start_week=0, end_week=END_WEEK):
        if picked is not None:
            summary.journey_segments += worst[picked.id].segments
            typical = render_tip(
                picked.text,
                language=language,
                child_name=None,
                age_weeks=week,
                program_name=DEFAULT_PROGRAM,
            )
            summary.typical_journey_segments += analyze(typical).segments


def _check_safety(tip: Tip, findings: list[Finding], reviewed: list[Finding]) -> None:
    """Safety gaps fail the tip unless a reviewer marked them, with a reason, in the tip file."""
    rules = load_safety(tip.language)
    reasons = {review.rule: review.reason for review in tip.reviews}
    known = {rule.key for rule in rules}
    for rule in sorted(set(reasons) - known):
        message = f"safety_reviewed names {rule!r}; the rules are {', '.join(sorted(known))}"
        findings.append(Finding("safety", "error", message, tip.file, tip.id))
    gaps = find_safety_gaps(tip, rules)
    for gap in gaps:
        reason = reasons.get(gap.rule.key)
        if reason is None:
            findings.append(Finding("safety", "error", gap.describe(), tip.file, tip.id))
        else:
            message = f"{gap.rule.key}: {gap.found!r} reviewed as safe: {reason}"
            reviewed.append(Finding("safety-reviewed", "warning", message, tip.file, tip.id))
    for rule in sorted(set(reasons) & known - {gap.rule.key for gap in gaps}):
        message = f"safety_reviewed for {rule!r}, but the tip needs no exception; remove it"
        findings.append(Finding("safety", "warning", message, tip.file, tip.id))


def check_library(library: Library, *, catalogs: Mapping[str, Path] | None = None) -> CheckReport:
    """Run every rule on every tip of the library and on the system message catalogs."""
    report = CheckReport(findings=list(library.findings))
    for language in LANGUAGES:
        report.summaries[language] = LanguageSummary(language)
        where = f"{display_path(library.root / 'tips' / language, library.root)}/"
        _check_tips(language, library.tips.get(language, []), report, where=where)
    for language, path in (catalogs or {}).items():
        if not path.exists():
            message = f"no system message catalog for {language!r}; nothing to check"
            report.findings.append(
                Finding("catalog", "warning", message, display_path(path, library.root))
            )
            continue
        result = inspect_catalog(path, language=language, root=library.root)
        report.findings.extend(result.findings)
        report.catalogs[display_path(path, library.root)] = result.messages
    for finding in report.findings:
        tips_language = _language_of(finding)
        if tips_language is not None:
            summary = report.summaries[tips_language]
            if finding.severity == "error":
                summary.errors += 1
            else:
                summary.warnings += 1
    return report


def _language_of(finding: Finding) -> str | None:
    """The language whose tips a finding is about (None for catalogs and themes)."""
    for language in LANGUAGES:
        if finding.file and f"tips/{language}/" in finding.file:
            return language
    return None
