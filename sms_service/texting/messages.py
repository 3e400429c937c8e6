"""The per-language message catalogs (messages/<lang>.yaml) and the rendering of a reply."""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from content.languages import DEFAULT_LANGUAGE
from content.library import DEFAULT_ROOT, LANGUAGES
from content.render import fallback_name, written_name
from sms_service.caregivers.partnership import DEFAULT_PARTNER_SLUG
from sms_service.core.models import Caregiver, Partner
from sms_service.core.settings import Settings

MESSAGES_DIR = DEFAULT_ROOT / "messages"
# Every placeholder a message may use; render() fills the first four, callers the others.
PLACEHOLDERS = frozenset(
    {"program", "frequency", "contact", "child", "Child", "when", "date", "keyword", "partner"}
)
# Pieces put inside other texts rather than sent alone.
FRAGMENTS = frozenset(
    {
        "frequency_one",
        "frequency_many",
        "weekday_names",
        "month_names",
        "date_format",
        "when_morning",
        "when_afternoon",
        "when_evening",
    }
)


class CatalogError(Exception):
    """A catalog file is missing, malformed, or lacks a key."""


@cache
def load_catalog(language: str, directory: Path = MESSAGES_DIR) -> dict[str, str]:
    """The key -> text mapping of one language, read once."""
    path = directory / f"{language}.yaml"
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CatalogError(f"{path}: {error}") from error
    if not isinstance(data, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in data.items()
    ):
        raise CatalogError(f"{path}: must be a flat mapping of key -> text")
    return dict(data)


def placeholders(text: str) -> set[str]:
    """The {names} a catalog text uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


PARTNER_VARIANT = "_partner"  # the suffix of a text's twin that names the family's partner


@dataclass(frozen=True)
class Texts:
    """The catalog of one language, bound to the program's settings, ready to render replies.

    With a `partner` (the organisation a family joined through), a text that has a twin
    `<key>_partner` renders the twin, which names who the program is delivered with; its
    `contact` answers {contact} in place of the program's."""

    language: str
    settings: Settings
    partner: str | None = None
    contact: str | None = None

    def raw(self, key: str) -> str:
        catalog = load_catalog(self.language)
        if key not in catalog:
            raise CatalogError(f"messages/{self.language}.yaml has no {key!r}")
        return catalog[key]

    def fragment(self, key: str, **values: str) -> str:
        """A catalog text filled in, without the program prefix (used inside other texts)."""
        return self.raw(key).format(**values)

    def render(
        self, key: str, *, child: str | None = None, child_weeks: int = 0, **values: str
    ) -> str:
        """The whole reply body: "<program>: " then the text with its placeholders filled in."""
        name = written_name(child or "") or fallback_name(self.language, child_weeks)
        filled = {
            "program": self.settings.program_name,
            "frequency": self.frequency(),
            "contact": self.contact or self.settings.help_contact,
            "child": name,
            "Child": name[:1].upper() + name[1:],
            **values,
        }
        if self.partner:
            filled.setdefault("partner", self.partner)
            if key + PARTNER_VARIANT in load_catalog(self.language):
                key += PARTNER_VARIANT
        return f"{self.settings.program_name}: {self.raw(key).format(**filled)}"

    def frequency(self) -> str:
        count = self.settings.messages_per_week
        if count == 1:
            return self.fragment("frequency_one")
        return self.fragment("frequency_many", count=str(count))

    def weekday(self, weekday: int) -> str:
        return self.raw("weekday_names").split(",")[weekday]

    def when(self, weekday: int, hour: int) -> str:
        """'every Monday morning' for a send day and local hour."""
        part = "when_morning" if hour < 12 else "when_afternoon" if hour < 17 else "when_evening"
        return self.fragment(part, day=self.weekday(weekday))

    def date(self, day: date) -> str:
        """'March 14' / '14 de marzo'."""
        month = self.raw("month_names").split(",")[day.month - 1]
        return self.fragment("date_format", month=month, day=str(day.day))


def texts(language: str, settings: Settings, *, partner: Partner | None = None) -> Texts:
    """The catalog for `language` (the default language when the language is unknown), naming
    `partner` unless it is the default partner (the program itself)."""
    code = language if language in LANGUAGES else DEFAULT_LANGUAGE
    if partner is None or partner.slug == DEFAULT_PARTNER_SLUG:
        return Texts(code, settings)
    return Texts(code, settings, partner=partner.name, contact=partner.help_contact)


def texts_for(session: Session, caregiver: Caregiver, settings: Settings) -> Texts:
    """The texts of one caregiver: their language, naming the partner they joined through."""
    # The partner row is not among what a text's handling changes, so reading it need not
    # flush those changes first (one flush, one UPDATE per row, at the end instead).
    with session.no_autoflush:
        partner = session.get(Partner, caregiver.partner_id)
    return texts(caregiver.language, settings, partner=partner)
