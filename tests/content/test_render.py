"""Rendering tips: the program prefix, the child's name as written or an age-fitting fallback."""

from __future__ import annotations

import pytest

from content.render import fallback_name, render_tip, written_name
from content.segments import analyze

TEXT = "{Child} loves your voice. Sing to {child} today."


@pytest.mark.parametrize(
    ("language", "age_weeks", "expected"),
    [
        ("en", -6, "your baby"),  # expected babies are babies
        ("en", 0, "your baby"),
        ("en", 51, "your baby"),
        ("en", 52, "your toddler"),
        ("en", 155, "your toddler"),
        ("es", -1, "tu bebé"),
        ("es", 51, "tu bebé"),
        ("es", 52, "tu niño o niña"),
    ],
)
def test_fallback_name_by_age_and_language(language: str, age_weeks: int, expected: str) -> None:
    assert fallback_name(language, age_weeks) == expected


def test_render_without_a_name_uses_the_fallback_capitalised_at_sentence_start() -> None:
    body = render_tip(
        TEXT, language="en", child_name=None, age_weeks=60, program_name="Little Moments"
    )
    assert body == "Little Moments: Your toddler loves your voice. Sing to your toddler today."
    body = render_tip(TEXT, language="es", child_name="", age_weeks=3, program_name="LM")
    assert body == "LM: Tu bebé loves your voice. Sing to tu bebé today."


def test_render_with_a_name() -> None:
    body = render_tip(TEXT, language="en", child_name="maya", age_weeks=10, program_name="LM")
    assert body == "LM: Maya loves your voice. Sing to maya today."


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("José", "José"),
        ("Sofía", "Sofía"),
        ("Xóchitl", "Xóchitl"),
        ("María Inés", "María Inés"),
        ("Łukasz", "Łukasz"),
        ("  Chloé  Ann ", "Chloé Ann"),
        ("O’Brien", "O’Brien"),
        ("Ma\u200bya", "Maya"),  # an invisible character is not part of the name
        ("Maximiliano Alejandro Gutiérrez", "Maximiliano Alejandr"),
    ],
)
def test_names_are_kept_as_written_trimmed_and_capped(name: str, expected: str) -> None:
    assert written_name(name) == expected


def test_a_name_as_written_may_make_the_message_ucs2() -> None:
    body = render_tip(TEXT, language="en", child_name="sofía", age_weeks=5, program_name="LM")
    assert body == "LM: Sofía loves your voice. Sing to sofía today."
    assert analyze(body).encoding == "UCS-2"


def test_a_name_with_nothing_visible_falls_back() -> None:
    body = render_tip(TEXT, language="en", child_name=" \u200b ", age_weeks=5, program_name="LM")
    assert body.startswith("LM: Your baby loves")
