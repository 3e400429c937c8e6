"""Reading answers: names, birth and due dates, ages and menu picks, in English and Spanish."""

from __future__ import annotations

from datetime import date

import pytest

from content.ages import Birth, BirthProblem
from sms_service.texting.answers import (
    SKIP,
    fold,
    parse_birth,
    parse_language,
    parse_name,
    parse_pause_weeks,
    parse_schedule,
)

TODAY = date(2025, 11, 20)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("3/14/2025", "en", date(2025, 3, 14)),
        ("03/14/25", "en", date(2025, 3, 14)),
        ("2025-03-14", "en", date(2025, 3, 14)),
        ("2025/3/14", "es", date(2025, 3, 14)),
        ("14/3/2025", "es", date(2025, 3, 14)),
        ("14/3/2025", "en", date(2025, 3, 14)),  # no 14th month: read day/month
        ("3/14/2025", "es", date(2025, 3, 14)),  # no 14th month: read month/day
        ("4/3/2025", "en", date(2025, 4, 3)),
        ("4/3/2025", "es", date(2025, 3, 4)),
        ("14 marzo 2025", "es", date(2025, 3, 14)),
        ("14 de marzo de 2025", "es", date(2025, 3, 14)),
        ("March 14, 2025", "en", date(2025, 3, 14)),
        ("mar 14 2025", "en", date(2025, 3, 14)),
        ("14 Sept 2025", "en", date(2025, 9, 14)),
        ("  3/14/2025.  ", "en", date(2025, 3, 14)),
        ("3/14", "en", date(2025, 3, 14)),  # no year: the last March 14
        ("12/25", "en", date(2024, 12, 25)),  # December 25 has not come yet this year
        ("newborn", "en", TODAY),
        ("recién nacida", "es", TODAY),
    ],
)
def test_birth_dates_in_both_languages(text: str, language: str, expected: date) -> None:
    assert parse_birth(text, today=TODAY, language=language) == Birth(expected, is_expected=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8 months", date(2025, 3, 20)),
        ("8 meses", date(2025, 3, 20)),
        ("8 mos", date(2025, 3, 20)),
        ("8months old", date(2025, 3, 20)),
        ("she is 8 months", date(2025, 3, 20)),
        ("hace 8 meses", date(2025, 3, 20)),
        ("2 years", date(2023, 11, 20)),
        ("2 años", date(2023, 11, 20)),
        ("2 anos", date(2023, 11, 20)),
        ("1 year and 3 months", date(2024, 8, 20)),
        ("1 año y 3 meses", date(2024, 8, 20)),
        ("1.5 years", date(2024, 5, 20)),
        ("a year", date(2024, 11, 20)),
        ("ten weeks", date(2025, 9, 11)),
        ("3 semanas", date(2025, 10, 30)),
        ("10 days", date(2025, 11, 10)),
    ],
)
def test_ages_become_birth_dates(text: str, expected: date) -> None:
    assert parse_birth(text, today=TODAY, language="en") == Birth(expected, is_expected=False)


def test_month_arithmetic_keeps_to_real_dates() -> None:
    found = parse_birth("1 month", today=date(2025, 3, 31), language="en")
    assert found == Birth(date(2025, 2, 28), is_expected=False)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("due 6/1", "en", date(2026, 6, 1)),  # no year: the next June 1
        ("DUE 12/25", "en", date(2025, 12, 25)),
        ("due date 2026-02-03", "en", date(2026, 2, 3)),
        ("due in 3 months", "en", date(2026, 2, 20)),
        ("nace 1/6", "es", date(2026, 6, 1)),
        ("nace el 14 de febrero", "es", date(2026, 2, 14)),
        ("Nace en 2 meses", "es", date(2026, 1, 20)),
        ("1/15/2026", "en", date(2026, 1, 15)),  # a future date is a due date even without DUE
    ],
)
def test_due_dates_mark_the_baby_as_expected(text: str, language: str, expected: date) -> None:
    assert parse_birth(text, today=TODAY, language=language) == Birth(expected, is_expected=True)


def test_a_due_date_already_past_is_a_birth_date() -> None:
    found = parse_birth("due 2025-11-01", today=TODAY, language="en")
    assert found == Birth(date(2025, 11, 1), is_expected=False)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", BirthProblem.UNREADABLE),
        ("soon", BirthProblem.UNREADABLE),
        ("8", BirthProblem.UNREADABLE),
        ("🙂", BirthProblem.UNREADABLE),
        ("2/30/2025", BirthProblem.UNREADABLE),
        ("13/13/2025", BirthProblem.UNREADABLE),
        ("8 potatoes", BirthProblem.UNREADABLE),
        ("8 months 🙂 maybe", BirthProblem.UNREADABLE),
        ("x" * 2000, BirthProblem.UNREADABLE),
        ("3 years", BirthProblem.TOO_OLD),
        ("1/1/2020", BirthProblem.TOO_OLD),
        ("due 2027-06-01", BirthProblem.TOO_FAR),
        ("99 years", BirthProblem.TOO_OLD),
        ("99999 years", BirthProblem.UNREADABLE),
    ],
)
def test_unusable_birth_answers_say_why(text: str, problem: BirthProblem) -> None:
    assert parse_birth(text, today=TODAY, language="en") is problem


def test_program_ends_at_156_weeks() -> None:
    last_day = date.fromordinal(TODAY.toordinal() - 156 * 7 + 1)
    assert parse_birth(last_day.isoformat(), today=TODAY, language="en") == Birth(last_day, False)
    too_old = date.fromordinal(TODAY.toordinal() - 156 * 7)
    assert parse_birth(too_old.isoformat(), today=TODAY, language="en") is BirthProblem.TOO_OLD


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Maya", "Maya"),
        ("  maya  ", "maya"),
        ("Sofía", "Sofía"),
        ("Mary-Kate", "Mary-Kate"),
        ("O'Neil", "O'Neil"),
        ("Ana Lucía", "Ana Lucía"),
        ("Maximiliano Alejandro", "Maximiliano"),  # over 20 characters: the first word
        ("Wolfeschlegelsteinhausen", "Wolfeschlegelsteinha"),  # then cut to 20
    ],
)
def test_names(text: str, expected: str) -> None:
    assert parse_name(text) == expected


@pytest.mark.parametrize("text", ["skip", "SKIP!", "omitir", "No", "ninguno"])
def test_skipping_the_name(text: str) -> None:
    assert parse_name(text) is SKIP


@pytest.mark.parametrize(
    "text", ["", "   ", "🙂🙂", "3/14/2025", "8 months", "Maya!!", "x" * 61, "<script>", "\x00"]
)
def test_things_that_are_not_names(text: str) -> None:
    assert parse_name(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", (0, 9)),
        (" 4 ", (2, 18)),
        ("6", (6, 18)),
        ("Monday morning", (0, 9)),
        ("wednesday evening", (2, 18)),
        ("Sun", (6, 9)),
        ("lunes en la mañana", (0, 9)),
        ("miércoles en la tarde", (2, 18)),
        ("domingo tarde", (6, 18)),
    ],
)
def test_schedule_menu_choices(text: str, expected: tuple[int, int]) -> None:
    assert parse_schedule(text) == expected


@pytest.mark.parametrize("text", ["0", "7", "99999999999999999999", "Friday", "soon", "", "1 2"])
def test_schedule_outside_the_menu(text: str) -> None:
    assert parse_schedule(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", "en"), ("English", "en"), ("inglés", "en"), ("2", "es"), ("Español", "es")],
)
def test_language_menu(text: str, expected: str) -> None:
    assert parse_language(text) == expected


def test_language_menu_rejects_other_answers() -> None:
    assert parse_language("3") is None
    assert parse_language("french") is None


@pytest.mark.parametrize(
    ("argument", "weeks"), [("", 4), ("2", 2), ("two", 2), ("0", 1), ("52", 12), ("soon", 4)]
)
def test_pause_weeks(argument: str, weeks: int) -> None:
    assert parse_pause_weeks(argument) == weeks


def test_fold_ignores_case_accents_punctuation_and_spacing() -> None:
    assert fold("  ¡Sí,   señor!! ") == "SI SENOR"
    assert fold("join-library") == "JOIN-LIBRARY"
