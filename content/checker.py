"""The checker every tip, system message and campaign message must pass."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import yaml

from content.coverage import END_WEEK, find_gaps
from content.findings import Finding, Severity
from content.framing import find_deficits, fold, load_rules
from content.library import DEFAULT_ROOT, LANGUAGES, Library, Tip, display_path
from content.readability import reading_level
from content.render import PLACEHOLDERS, fallback_name, render_tip
from content.segments import GSM_MULTI, UCS2_MULTI, SegmentInfo, analyze, describe_char
from content.sequence import journey

__all__ = ["CheckReport", "Finding", "check_catalog", "check_library", "check_message"]

WORST_PROGRAM = "Little Moments Programme"  # 24 characters: the longest program name allowed
DEFAULT_PROGRAM = "Little Moments"  # Settings.program_name's default
WORST_NAME = "Alexandria Josephine"  # 20 characters: the longest child name ENROLL keeps
MAX_SEGMENTS = 2
NEAR_DUPLICATE_RATIO = 0.8  # share of words two tips have in the same order
# Spanish cannot be written without these; they make a text UCS-2 and the limits allow it.
EXPECTED_NON_GSM = {"en": frozenset(), "es": frozenset("áíóúÁÍÓÚ")}
GSM_REPLACEMENTS = {
    "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "–": "-", "—": "-",
    "\u00a0": "a plain space", "•": "-",
}  # fmt: skip
PLACEHOLDER_FIELD = re.compile(r"\{([^{}]*)\}")
# Catalog texts put inside other texts (sms_service/catalog.py FRAGMENTS): they are checked as
# part of the messages that use them, with the longest value they can take.
CATALOG_FRAGMENTS = frozenset({"weekday_names", "month_names", "date_format"})
CATALOG_FRAGMENT_PREFIXES = ("frequency_", "when_")
LONGEST_CONTACT = "familyprograms@organization-example.org"  # 40 characters
UNKNOWN_SAMPLE = "X" * 20


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

    @property
    def errors(self) -> list[Finding]:
        """The findings that fail the check."""
        return [finding for finding in self.findings if finding.severity == "error"]

    @property
    def ok(self) -> bool:
        """Whether the library and the messages may ship."""
        return not self.errors


def _placeholder_findings(text: str, allowed: frozenset[str], what: str) -> list[str]:
    problems = [
        f"unknown placeholder {{{name}}}; {what} may use only "
        + " and ".join(f"{{{known}}}" for known in sorted(allowed))
        for name in dict.fromkeys(PLACEHOLDER_FIELD.findall(text))
        if name not in allowed
    ]
    if "{" in PLACEHOLDER_FIELD.sub("", text) or "}" in PLACEHOLDER_FIELD.sub("", text):
        problems.append("a stray { or } (placeholders are written {child} or {Child})")
    return problems


def _encoding_problems(info: SegmentInfo, language: str) -> list[tuple[Severity, str]]:
    """Characters that force UCS-2: an error when a plain GSM-7 twin exists (curly quotes,
    dashes), a warning otherwise (emoji, accents); Spanish á í ó ú are expected."""
    problems: list[tuple[Severity, str]] = []
    for char in info.non_gsm:
        if char in EXPECTED_NON_GSM[language]:
            continue
        forces = f"{describe_char(char)} forces UCS-2 (70 characters a segment instead of 160)"
        hint = GSM_REPLACEMENTS.get(char)
        if hint is None:
            problems.append(("warning", f"{forces}; use a GSM-7 character if you can"))
        else:
            problems.append(("error", f"{forces}; use {hint if len(hint) > 3 else repr(hint)}"))
    return problems


def _segment_problem(info: SegmentInfo, context: str) -> str | None:
    if info.segments <= MAX_SEGMENTS:
        return None
    limit = (GSM_MULTI if info.encoding == "GSM-7" else UCS2_MULTI) * MAX_SEGMENTS
    return (
        f"{info.segments} segments ({info.encoding}, {info.units} units) {context}; at most "
        f"{MAX_SEGMENTS} segments = {limit} {info.encoding} units: cut {info.units - limit}"
    )


def _message_findings(
    *,
    full: str,
    plain: str,
    language: str,
    context: str,
    add: Callable[[str, Severity, str], None],
) -> SegmentInfo:
    """Segments, encoding, framing and reading level of one message; returns its segments.

    `full` is the message as sent in the worst case (prefix, longest values); `plain` is the
    text a caregiver reads (placeholders filled in as usual, no prefix).
    """
    info = analyze(full)
    problem = _segment_problem(info, context)
    if problem:
        add("segments", "error", problem)
    for severity, problem in _encoding_problems(info, language):
        add("encoding", severity, problem)
    for hit in find_deficits(plain, load_rules(language)):
        add("framing", "error", f"deficit framing {hit.found!r}; instead: {hit.suggest}")
    level = reading_level(plain, language=language)
    if not level.ok:
        add("reading-level", "error", f"too hard to read: {level.summary}")
    return info


def check_message(text: str, *, language: str, program_name: str = WORST_PROGRAM) -> list[Finding]:
    """Findings for a staff-written campaign message (it may use {child} and {Child})."""
    findings: list[Finding] = []

    def add(rule: str, severity: Severity, message: str) -> None:
        findings.append(Finding(rule, severity, message))

    if not text.strip():
        add("structure", "error", "the message is empty")
        return findings
    for problem in _placeholder_findings(text, PLACEHOLDERS, "messages"):
        add("placeholder", "error", problem)
    _message_findings(
        full=render_tip(
            text, language=language, child_name=WORST_NAME, age_weeks=0, program_name=program_name
        ),
        plain=render_tip(text, language=language, child_name=None, age_weeks=0, program_name="")[
            2:
        ],
        language=language,
        context=f"with the program name and a {len(WORST_NAME)}-character child name",
        add=add,
    )
    return findings


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


def _check_tips(language: str, tips: list[Tip], report: CheckReport, *, where: str) -> None:
    summary = report.summaries[language]
    worst: dict[str, SegmentInfo] = {}
    for tip in tips:

        def add(rule: str, severity: Severity, message: str, tip: Tip = tip) -> None:
            report.findings.append(Finding(rule, severity, message, tip.file, tip.id))

        for problem in _placeholder_findings(tip.text, PLACEHOLDERS, "tips"):
            add("placeholder", "error", problem)
        age = max(tip.min_week, 0)  # fallbacks: the youngest age the tip is sent at
        info = _message_findings(
            full=render_tip(
                tip.text,
                language=language,
                child_name=WORST_NAME,
                age_weeks=age,
                program_name=WORST_PROGRAM,
            ),
            plain=render_tip(
                tip.text, language=language, child_name=None, age_weeks=age, program_name=""
            )[2:],
            language=language,
            context=(
                f"with a {len(WORST_PROGRAM)}-character program name and a "
                f"{len(WORST_NAME)}-character child name"
            ),
            add=add,
        )
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
    for gap in find_gaps(tips):
        report.findings.append(Finding("coverage", "error", gap.describe(), where))
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


def _heaviest(candidates: Iterable[str]) -> str:
    """The candidate that costs most in a message: any that forces UCS-2, then the longest."""
    return max(candidates, key=lambda text: (bool(analyze(text).non_gsm), len(text)), default="")


def _fragment(catalog: Mapping[str, Any], key: str, **values: str) -> list[str]:
    text = catalog.get(key)
    try:
        return [text.format(**values)] if isinstance(text, str) else []
    except (ValueError, IndexError, KeyError):
        return []  # the fragment's own finding comes from the messages that use it


def _list(catalog: Mapping[str, Any], key: str) -> list[str]:
    text = catalog.get(key)
    return [item.strip() for item in text.split(",")] if isinstance(text, str) else []


def catalog_samples(catalog: Mapping[str, Any]) -> dict[str, str]:
    """The costliest plausible value of each placeholder of a system message catalog."""
    weekdays = _list(catalog, "weekday_names") or [UNKNOWN_SAMPLE]
    months = _list(catalog, "month_names") or [UNKNOWN_SAMPLE]
    when_keys = [key for key in catalog if str(key).startswith("when_")]
    return {
        "program": WORST_PROGRAM,
        "contact": LONGEST_CONTACT,
        "child": WORST_NAME,
        "Child": WORST_NAME,
        "frequency": _heaviest(
            _fragment(catalog, "frequency_one") + _fragment(catalog, "frequency_many", count="7")
        ),
        "when": _heaviest(
            text
            for key in when_keys
            for day in weekdays
            for text in _fragment(catalog, key, day=day)
        ),
        "date": _heaviest(
            text
            for month in months
            for text in _fragment(catalog, "date_format", month=month, day="30")
        ),
    }


def _reading_samples(catalog: Mapping[str, Any], language: str) -> dict[str, str]:
    # Reading level is judged on everyday values: a long made-up name would only add syllables.
    child = fallback_name(language, 0)
    first_when = next((key for key in catalog if str(key).startswith("when_")), "")
    first_day = (_list(catalog, "weekday_names") or [UNKNOWN_SAMPLE])[0]
    return {
        "frequency": next(iter(_fragment(catalog, "frequency_one")), UNKNOWN_SAMPLE),
        "when": next(iter(_fragment(catalog, first_when, day=first_day)), UNKNOWN_SAMPLE),
        "program": "Little Moments",
        "contact": "hello@example.org",
        "child": child,
        "Child": child[:1].upper() + child[1:],
    }


def _is_fragment(key: str) -> bool:
    return key in CATALOG_FRAGMENTS or key.startswith(CATALOG_FRAGMENT_PREFIXES)


def check_catalog(path: Path, *, language: str, root: Path = DEFAULT_ROOT) -> list[Finding]:
    """Findings for a system message catalog: a flat mapping key -> text with {placeholders};
    each message is checked as sent ("<program>: " + text) with its costliest values."""
    return _check_catalog(path, language=language, root=root)[0]


def _check_catalog(path: Path, *, language: str, root: Path) -> tuple[list[Finding], int]:
    checked = 0
    shown = display_path(path, root)
    findings: list[Finding] = []
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        problem = " ".join(str(error).split())
        return [Finding("structure", "error", f"cannot read the catalog: {problem}", shown)], 0
    if not isinstance(data, dict):
        return [Finding("structure", "error", "expected a mapping of key: text", shown)], 0
    samples = catalog_samples(data)
    for key, text in data.items():

        def add(rule: str, severity: Severity, message: str, key: object = key) -> None:
            findings.append(Finding(rule, severity, message, shown, str(key)))

        if not isinstance(text, str) or not text.strip():
            add("structure", "error", "each message must be non-empty text")
            continue
        if _is_fragment(str(key)):
            continue
        checked += 1
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
            body = text.format_map(_Samples(samples))
            plain = text.format_map(_Samples({**samples, **_reading_samples(data, language)}))
        except (ValueError, IndexError, AttributeError) as error:
            add("placeholder", "error", f"cannot be formatted: {error}")
            continue
        for name in dict.fromkeys(names):
            if name not in samples:
                message = (
                    f"placeholder {{{name}}} has no known longest value; checked as "
                    f"{len(UNKNOWN_SAMPLE)} characters (see content.checker.catalog_samples)"
                )
                add("placeholder", "warning", message)
        _message_findings(
            full=f"{WORST_PROGRAM}: {body}",
            plain=plain,
            language=language,
            context="as sent with the longest program name and placeholder values",
            add=add,
        )
    return findings, checked


class _Samples(dict[str, str]):
    """Placeholder values for format_map: the known costliest ones, else 20 characters."""

    def __missing__(self, key: str) -> str:
        return UNKNOWN_SAMPLE


def default_catalogs(root: Path = DEFAULT_ROOT) -> dict[str, Path]:
    """The system message catalogs ENROLL writes: sms_service/messages/<language>.yaml."""
    folder = root.parent / "sms_service" / "messages"
    return {language: folder / f"{language}.yaml" for language in LANGUAGES}


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
        found, checked = _check_catalog(path, language=language, root=library.root)
        report.findings.extend(found)
        report.catalogs[display_path(path, library.root)] = checked
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
