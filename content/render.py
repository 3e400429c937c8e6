"""Turn a tip's text into the message a caregiver receives: prefix, name or fallback."""

from __future__ import annotations

import re
import unicodedata

from content.languages import language as language_named

PLACEHOLDER = re.compile(r"\{(child|Child)\}")
PLACEHOLDERS = frozenset({"child", "Child"})
MAX_NAME_LENGTH = 20
TODDLER_FROM_WEEK = 52


def fallback_name(language: str, age_weeks: int) -> str:
    """What {child} becomes without a name: "your baby" (or "tu bebé") until 52 weeks, then
    "your toddler" ("tu niño o niña"); an expected baby (negative weeks) is a baby."""
    names = language_named(language)
    return names.toddler if age_weeks >= TODDLER_FROM_WEEK else names.baby


def written_name(name: str) -> str:
    """The name as the parent wrote it, spaces tidied and cut to 20 characters. Accents stay
    even when they make the text UCS-2: a child's name is worth the segments."""
    printable = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    return " ".join(printable.split())[:MAX_NAME_LENGTH].strip()


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def fill_placeholders(text: str, *, language: str, child_name: str | None, age_weeks: int) -> str:
    """The text with {child}/{Child} filled in: the name as written, or the age's fallback."""
    child = written_name(child_name or "") or fallback_name(language, age_weeks)

    def fill(match: re.Match[str]) -> str:
        return _capitalised(child) if match.group(1) == "Child" else child

    return PLACEHOLDER.sub(fill, text)


def render_tip(
    text: str, *, language: str, child_name: str | None, age_weeks: int, program_name: str
) -> str:
    """The full message body: "<program>: " then the text with {child}/{Child} filled in."""
    filled = fill_placeholders(text, language=language, child_name=child_name, age_weeks=age_weeks)
    return f"{program_name}: {filled}"
