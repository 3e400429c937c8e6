"""System message catalogs (content/messages/<language>.yaml) through the message rules."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from content.findings import Finding, Severity
from content.library import DEFAULT_ROOT, LANGUAGES, display_path
from content.message_rules import DEFAULT_PROGRAM, WORST_NAME, WORST_PROGRAM, message_findings
from content.render import fallback_name
from content.schedule_menu import SCHEDULE_MENU
from content.segments import analyze

# Catalog texts put inside other texts (sms_service/catalog.py FRAGMENTS): they are checked as
# part of the messages that use them, with the costliest value they can take.
CATALOG_FRAGMENTS = frozenset({"weekday_names", "month_names", "date_format"})
CATALOG_FRAGMENT_PREFIXES = ("frequency_", "when_")
LONGEST_CONTACT = "familyprograms@organization-example.org"  # 40 characters
LONGEST_KEYWORD = "JOIN-LIBRARY"  # 12 characters: invites name the keyword to reply with
LONGEST_PARTNER = "Eastside Family Resource Ctr."  # 30 characters: who sends an invitation
UNKNOWN_SAMPLE = "X" * 20
OFFERED_WEEKDAYS = sorted({weekday for weekday, _hour in SCHEDULE_MENU.values()})


@dataclass
class CatalogResult:
    """The findings of one catalog and how many messages (not fragments) were checked."""

    findings: list[Finding] = field(default_factory=list)
    messages: int = 0


def default_catalogs(root: Path = DEFAULT_ROOT) -> dict[str, Path]:
    """The system message catalogs: content/messages/<language>.yaml."""
    folder = root / "messages"
    return {language: folder / f"{language}.yaml" for language in LANGUAGES}


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
    names = _list(catalog, "weekday_names")
    # {when} only ever names a day of the schedule menu (parse_schedule accepts no other).
    weekdays = [names[day] for day in OFFERED_WEEKDAYS if day < len(names)] or [UNKNOWN_SAMPLE]
    months = _list(catalog, "month_names") or [UNKNOWN_SAMPLE]
    when_keys = [key for key in catalog if str(key).startswith("when_")]
    return {
        "program": WORST_PROGRAM,
        "contact": LONGEST_CONTACT,
        "keyword": LONGEST_KEYWORD,
        "partner": LONGEST_PARTNER,
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
        "program": DEFAULT_PROGRAM,
        "contact": "hello@example.org",
        "keyword": "JOIN",
        "partner": "the clinic",
        "child": child,
        "Child": child[:1].upper() + child[1:],
    }


def _is_fragment(key: str) -> bool:
    return key in CATALOG_FRAGMENTS or key.startswith(CATALOG_FRAGMENT_PREFIXES)


def check_catalog(path: Path, *, language: str, root: Path = DEFAULT_ROOT) -> list[Finding]:
    """Findings for a system message catalog, a flat mapping key -> text with {placeholders}."""
    return inspect_catalog(path, language=language, root=root).findings


def inspect_catalog(path: Path, *, language: str, root: Path = DEFAULT_ROOT) -> CatalogResult:
    """Check every message of a catalog as sent ("<program>: " + text) with its costliest
    placeholder values; fragments are checked inside the messages that use them."""
    shown = display_path(path, root)
    result = CatalogResult()
    findings = result.findings
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        problem = " ".join(str(error).split())
        findings.append(Finding("structure", "error", f"cannot read the catalog: {problem}", shown))
        return result
    if not isinstance(data, dict):
        findings.append(Finding("structure", "error", "expected a mapping of key: text", shown))
        return result
    samples = catalog_samples(data)
    for key, text in data.items():

        def add(rule: str, severity: Severity, message: str, key: object = key) -> None:
            findings.append(Finding(rule, severity, message, shown, str(key)))

        if not isinstance(text, str) or not text.strip():
            add("structure", "error", "each message must be non-empty text")
            continue
        if _is_fragment(str(key)):
            continue
        result.messages += 1
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
                    f"{len(UNKNOWN_SAMPLE)} characters (see content.catalogs.catalog_samples)"
                )
                add("placeholder", "warning", message)
        message_findings(
            full=f"{WORST_PROGRAM}: {body}",
            plain=plain,
            language=language,
            context="as sent with the longest program name and placeholder values",
            add=add,
        )
    return result


class _Samples(dict[str, str]):
    """Placeholder values for format_map: the known costliest ones, else 20 characters."""

    def __missing__(self, key: str) -> str:
        return UNKNOWN_SAMPLE
