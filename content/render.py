"""Turn a tip's text into the message a caregiver receives: prefix, name or fallback."""

from __future__ import annotations

import re
import unicodedata

from content.segments import GSM_BASIC

PLACEHOLDER = re.compile(r"\{(child|Child)\}")
PLACEHOLDERS = frozenset({"child", "Child"})
MAX_NAME_LENGTH = 20
TODDLER_FROM_WEEK = 52

_FALLBACKS = {
    "en": ("your baby", "your toddler"),
    "es": ("tu bebé", "tu peque"),
}
# Letters that Unicode does not decompose into a GSM-7 base letter plus an accent.
_SPECIAL = {
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Þ": "Th", "þ": "th",
    "Œ": "OE", "œ": "oe", "ı": "i", "ſ": "s",
    "’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-",
}  # fmt: skip


def fallback_name(language: str, age_weeks: int) -> str:
    """What {child} becomes without a name: "your baby" (or "tu bebé") until 52 weeks, then
    "your toddler" ("tu peque"); an expected baby (negative weeks) is a baby."""
    baby, toddler = _FALLBACKS[language]
    return toddler if age_weeks >= TODDLER_FROM_WEEK else baby


def transliterate_name(name: str) -> str:
    """The name in GSM-7 basic characters only (Á -> A, Ł -> L), so it never forces UCS-2."""
    kept: list[str] = []
    for char in name:
        if char in GSM_BASIC:
            kept.append(char)
        elif char in _SPECIAL:
            kept.append(_SPECIAL[char])
        elif char.isspace():
            kept.append(" ")
        else:
            base = unicodedata.normalize("NFKD", char)
            kept.extend(part for part in base if part in GSM_BASIC and part.isalnum())
    return " ".join("".join(kept).split())[:MAX_NAME_LENGTH].strip()


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def fill_placeholders(text: str, *, language: str, child_name: str | None, age_weeks: int) -> str:
    """The text with {child}/{Child} filled in: the GSM-7 name, or the fallback for the age."""
    child = transliterate_name(child_name or "") or fallback_name(language, age_weeks)

    def fill(match: re.Match[str]) -> str:
        return _capitalised(child) if match.group(1) == "Child" else child

    return PLACEHOLDER.sub(fill, text)


def render_tip(
    text: str, *, language: str, child_name: str | None, age_weeks: int, program_name: str
) -> str:
    """The full message body: "<program>: " then the text with {child}/{Child} filled in."""
    filled = fill_placeholders(text, language=language, child_name=child_name, age_weeks=age_weeks)
    return f"{program_name}: {filled}"
