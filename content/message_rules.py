"""The rules every message must meet, whatever it is: segments, encoding, framing, reading."""

from __future__ import annotations

import re
from collections.abc import Callable

from content.findings import Finding, Severity
from content.framing import find_deficits, load_rules
from content.library import FIRST_WEEK, LAST_WEEK, Tip
from content.readability import reading_level
from content.render import PLACEHOLDERS, fill_placeholders, render_tip
from content.safety import find_safety_gaps, load_safety
from content.segments import GSM_MULTI, UCS2_MULTI, SegmentInfo, analyze, describe_char

WORST_PROGRAM = "Little Moments Programme"  # 24 characters: the longest program name allowed
DEFAULT_PROGRAM = "Little Moments"  # Settings.program_name's default
WORST_NAME = "Alexandria Josephine"  # 20 characters: the longest child name ENROLL keeps
MAX_SEGMENTS = 2
# Spanish cannot be written without these; they make a text UCS-2 and the limits allow it.
EXPECTED_NON_GSM = {"en": frozenset(), "es": frozenset("áíóúÁÍÓÚ")}
GSM_REPLACEMENTS = {
    "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "–": "-", "—": "-",
    "\u00a0": "a plain space", "•": "-",
}  # fmt: skip
PLACEHOLDER_FIELD = re.compile(r"\{([^{}]*)\}")

AddFinding = Callable[[str, Severity, str], None]


def placeholder_problems(text: str, allowed: frozenset[str], what: str) -> list[str]:
    """Placeholders other than `allowed`, and braces that are not part of a placeholder."""
    problems = [
        f"unknown placeholder {{{name}}}; {what} may use only "
        + " and ".join(f"{{{known}}}" for known in sorted(allowed))
        for name in dict.fromkeys(PLACEHOLDER_FIELD.findall(text))
        if name not in allowed
    ]
    rest = PLACEHOLDER_FIELD.sub("", text)
    if "{" in rest or "}" in rest:
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


def message_findings(
    *,
    full: str,
    plain: str,
    language: str,
    context: str,
    add: AddFinding,
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
    for problem in placeholder_problems(text, PLACEHOLDERS, "messages"):
        add("placeholder", "error", problem)
    message_findings(
        full=render_tip(
            text, language=language, child_name=WORST_NAME, age_weeks=0, program_name=program_name
        ),
        plain=fill_placeholders(text, language=language, child_name=None, age_weeks=0),
        language=language,
        context=f"with the program name and a {len(WORST_NAME)}-character child name",
        add=add,
    )
    # A campaign may reach a family at any age: every safety rule of the language applies.
    anyone = Tip("message", language, FIRST_WEEK, LAST_WEEK, "", text, "")
    for gap in find_safety_gaps(anyone, load_safety(language)):
        add("safety", "error", gap.describe())
    return findings
