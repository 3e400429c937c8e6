"""Load the tip library from its YAML files; structure problems become findings, not crashes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from content.ages import EARLIEST_WEEK
from content.findings import Finding
from content.languages import content_root, languages

DEFAULT_ROOT = content_root()
LANGUAGES = tuple(languages(DEFAULT_ROOT))  # the default language first
FIRST_WEEK = EARLIEST_WEEK  # negative weeks count down to the due date
LAST_WEEK = 155  # week 156 is 36 months: the child ages out
ID_PATTERN = re.compile(r"^[a-z0-9-]{1,64}$")
TIP_KEYS = frozenset({"id", "weeks", "theme", "text"})
OPTIONAL_TIP_KEYS = frozenset({"safety_reviewed"})


@dataclass(frozen=True)
class SafetyReview:
    """A reviewer's decision that a tip is safe as written although it names a rule's context."""

    rule: str
    reason: str


@dataclass(frozen=True)
class Tip:
    """One tip as written in a content file."""

    id: str
    language: str
    min_week: int
    max_week: int
    theme: str
    text: str
    file: str
    reviews: tuple[SafetyReview, ...] = ()


@dataclass(frozen=True)
class Theme:
    """A core-story theme that every tip serves."""

    key: str
    title: str
    idea: str


@dataclass
class Library:
    """The tips by language, the themes, and what was wrong with the files."""

    root: Path
    themes: dict[str, Theme] = field(default_factory=dict)
    tips: dict[str, list[Tip]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    files: dict[str, list[str]] = field(default_factory=dict)  # language -> files read

    def all_tips(self) -> Iterator[Tip]:
        """Every tip of every language."""
        for language in LANGUAGES:
            yield from self.tips.get(language, [])

    def has_errors(self) -> bool:
        """Whether loading found a problem that must be fixed before the tips are used."""
        return any(finding.severity == "error" for finding in self.findings)


def display_path(path: Path, root: Path) -> str:
    """A file's path as reports show it: relative to the folder holding the content root."""
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _read_yaml(path: Path, shown: str, findings: list[Finding]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        findings.append(Finding("structure", "error", f"cannot read the file: {error}", shown))
    except yaml.YAMLError as error:
        problem = " ".join(str(error).split())
        findings.append(Finding("structure", "error", f"not valid YAML: {problem}", shown))
    return None


def load_themes(root: Path, findings: list[Finding]) -> dict[str, Theme]:
    """The themes of root/themes.yaml: key -> title and core-story idea."""
    path = root / "themes.yaml"
    shown = display_path(path, root)
    if not path.exists():
        findings.append(Finding("structure", "error", "themes.yaml is missing", shown))
        return {}
    data = _read_yaml(path, shown, findings)
    if not isinstance(data, dict):
        if data is not None:
            findings.append(Finding("structure", "error", "expected a mapping of themes", shown))
        return {}
    themes: dict[str, Theme] = {}
    for key, value in data.items():
        if not (
            isinstance(value, dict)
            and isinstance(value.get("title"), str)
            and isinstance(value.get("idea"), str)
        ):
            message = "each theme needs a `title` and an `idea` (text)"
            findings.append(Finding("structure", "error", message, shown, str(key)))
            continue
        themes[str(key)] = Theme(str(key), value["title"].strip(), " ".join(value["idea"].split()))
    return themes


def _weeks(value: Any) -> tuple[int, int] | str:
    if not (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(week, int) and not isinstance(week, bool) for week in value)
    ):
        return "`weeks` must be [first, last], two whole numbers of weeks"
    first, last = value
    if first > last:
        return f"`weeks` {value}: the first week comes after the last"
    if first < FIRST_WEEK or last > LAST_WEEK:
        return f"`weeks` {value}: outside {FIRST_WEEK}..{LAST_WEEK} (36 months is week 156)"
    return first, last


def _parse_tip(
    raw: Any, *, language: str, shown: str, themes: dict[str, Theme], findings: list[Finding]
) -> Tip | None:
    """One tip from its mapping, or None (with findings) when it cannot be used."""

    def problem(rule: str, message: str, item: str | None) -> None:
        findings.append(Finding(rule, "error", message, shown, item))

    if not isinstance(raw, dict):
        problem("structure", "each tip must be a mapping with id, weeks, theme, text", None)
        return None
    tip_id = raw.get("id")
    if not isinstance(tip_id, str) or not ID_PATTERN.match(tip_id):
        problem("id", f"id {tip_id!r} must be 1-64 characters of a-z, 0-9 and -", None)
        return None
    if not tip_id.startswith(f"{language}-"):
        problem("id", f"id must start with '{language}-' (the file's language)", tip_id)
    unknown = sorted(set(map(str, raw)) - TIP_KEYS - OPTIONAL_TIP_KEYS)
    missing = sorted(TIP_KEYS - set(map(str, raw)))
    if unknown or missing:
        parts = [f"unknown keys {unknown}"] if unknown else []
        parts += [f"missing {missing}"] if missing else []
        problem("structure", "; ".join(parts), tip_id)
        if missing:
            return None
    weeks = _weeks(raw["weeks"])
    if isinstance(weeks, str):
        problem("age-range", weeks, tip_id)
        return None
    text = raw["text"]
    if not isinstance(text, str) or not text.strip():
        problem("structure", "`text` must be non-empty text", tip_id)
        return None
    theme = str(raw["theme"])
    if theme not in themes:
        problem("theme", f"unknown theme {theme!r}; themes: {', '.join(sorted(themes))}", tip_id)
    reviews = _reviews(raw.get("safety_reviewed", []))
    if isinstance(reviews, str):
        problem("safety", reviews, tip_id)
        reviews = ()
    text = " ".join(text.split())
    return Tip(tip_id, language, weeks[0], weeks[1], theme, text, shown, reviews)


def _reviews(value: Any) -> tuple[SafetyReview, ...] | str:
    """`safety_reviewed`: one {rule, reason} mapping or a list of them; a problem as text."""
    entries = value if isinstance(value, list) else [value]
    reviews = []
    for entry in entries:
        if not (
            isinstance(entry, dict)
            and set(map(str, entry)) == {"rule", "reason"}
            and all(isinstance(entry[key], str) and entry[key].strip() for key in entry)
        ):
            return "`safety_reviewed` needs a `rule` and a `reason` (why the tip is safe)"
        reviews.append(SafetyReview(entry["rule"].strip(), " ".join(entry["reason"].split())))
    return tuple(reviews)


def _load_tip_file(
    path: Path, *, language: str, root: Path, themes: dict[str, Theme], findings: list[Finding]
) -> list[Tip]:
    shown = display_path(path, root)
    data = _read_yaml(path, shown, findings)
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("tips"), list):
        findings.append(Finding("structure", "error", "expected `language:` and `tips:`", shown))
        return []
    if data.get("language") != language:
        message = f"`language: {data.get('language')}` but the file is in tips/{language}/"
        findings.append(Finding("structure", "error", message, shown))
    tips = []
    for raw in data["tips"]:
        tip = _parse_tip(raw, language=language, shown=shown, themes=themes, findings=findings)
        if tip is not None:
            tips.append(tip)
    return tips


def load_library(root: Path = DEFAULT_ROOT) -> Library:
    """Read themes.yaml and tips/<language>/*.yaml under `root` into a Library."""
    library = Library(root=root)
    library.themes = load_themes(root, library.findings)
    tips_dir = root / "tips"
    for extra in sorted(tips_dir.glob("*")) if tips_dir.is_dir() else []:
        if extra.is_dir() and extra.name not in LANGUAGES:
            message = f"unknown language folder {extra.name!r}; expected one of {LANGUAGES}"
            shown = display_path(extra, root)
            library.findings.append(Finding("structure", "error", message, shown))
    seen: dict[str, Tip] = {}
    for language in LANGUAGES:
        paths = sorted((tips_dir / language).glob("*.y*ml"))
        library.files[language] = [display_path(path, root) for path in paths]
        kept: list[Tip] = []
        for path in paths:
            for tip in _load_tip_file(
                path, language=language, root=root, themes=library.themes, findings=library.findings
            ):
                if tip.id in seen:
                    message = f"duplicate id; first defined in {seen[tip.id].file}"
                    duplicate = Finding("duplicate-id", "error", message, tip.file, tip.id)
                    library.findings.append(duplicate)
                    continue
                seen[tip.id] = tip
                kept.append(tip)
        library.tips[language] = kept
    return library
