"""The answer parsers and the keyword classifier take any text a phone can send and never raise.

Each property runs FUZZ_EXAMPLES examples (60 by default, so the file takes a few seconds in
CI). To search longer, set SMS_TIPS_FUZZ_EXAMPLES, e.g.

    SMS_TIPS_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest -q tests/texting/test_parsers_fuzz.py
"""

from __future__ import annotations

import os
import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from content.ages import FURTHEST_DUE_DAYS, OLDEST_WEEKS, Birth, BirthProblem
from content.schedule_menu import SCHEDULE_MENU
from sms_service.texting.answers import (
    MAX_NAME_LENGTH,
    MAX_PAUSE_WEEKS,
    SKIP,
    fold,
    parse_birth,
    parse_language,
    parse_name,
    parse_pause_weeks,
    parse_schedule,
)
from sms_service.texting.keywords import Keyword, classify
from tests.helpers.settings import make_settings

FUZZ_EXAMPLES = int(os.environ.get("SMS_TIPS_FUZZ_EXAMPLES", "60"))
fuzz = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,  # shared CI cores: a slow example is not a failure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Pieces parents' texts are made of, and pieces that broke the parsers before.
_PIECES = [
    "JOIN", "STOP", "PAUSE", "TIME", "AGE", "due", "DUE IN", "nace el", "march", "marzo",
    "14", "3/14/2025", "2025-03-14", "8 months", "1.5 years", "years", "days", "weeks",
    "1000", "1000 years", "99999999999999999999", "0", "00", "١٤", "٣", "፩", "²", "①", "३",
    "Ⅻ", "½", "\u200f", "\u202e", "\u2066", "\u2028", "\x00", "\x1b", "\r\n", "\t", "👶", "🙂",
    "👨‍👩‍👧", "ß", "İ", "ﬁ", "Ⓜ", "Maya", "José", "مريم", "skip", "Monday evening", "lunes",
    "inf", "nan", "1e9", "-1", "+1", ".", "/", ",", "'", "’", " ",
]  # fmt: skip
_DIGITS = st.characters(categories=["Nd", "No"])

TEXTS = st.one_of(
    st.text(max_size=80),  # any code point but surrogates: control chars, marks, emoji
    st.text(_DIGITS, max_size=30),
    st.lists(st.one_of(st.sampled_from(_PIECES), st.text(_DIGITS, min_size=1, max_size=4))).map(
        " ".join
    ),
    st.lists(st.sampled_from(_PIECES), max_size=30).map("".join),
    st.text(st.sampled_from("19 ፩٣"), min_size=4000, max_size=5000),  # past int()'s limit
    st.text(max_size=5000),
)
TODAY = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@fuzz
@given(text=TEXTS)
@example(text="1" * 5000)
@example(text="٣" * 5000)
def test_fold_leaves_only_ascii_decimal_digits(text: str) -> None:
    folded = fold(text)
    assert all(char.isascii() for char in folded if char.isdecimal())
    assert folded == folded.strip() and "  " not in folded


@fuzz
@given(text=TEXTS, today=TODAY, language=st.sampled_from(["en", "es"]))
@example(text="march ፩", today=date(2026, 1, 15), language="en")
@example(text="march 1 ፩፩", today=date(2026, 1, 15), language="en")
@example(text="march 99999999999999999999", today=date(2026, 1, 15), language="en")
@example(text="1000 years 1000 years 1000 years 1000 days", today=date(2026, 1, 15), language="en")
@example(text="due in " + "1000 years " * 8 + "1000 days", today=date(2026, 1, 15), language="es")
@example(text="1" * 5000, today=date(2026, 1, 15), language="en")
def test_parse_birth_never_raises_and_stays_in_the_program(
    text: str, today: date, language: str
) -> None:
    found = parse_birth(text, today=today, language=language)
    if isinstance(found, BirthProblem):
        return
    assert isinstance(found, Birth)
    if found.is_expected:
        assert today < found.date <= today + timedelta(days=FURTHEST_DUE_DAYS)
    else:
        assert (today - found.date).days // 7 < OLDEST_WEEKS and found.date <= today


@fuzz
@given(text=TEXTS)
def test_parse_name_never_raises_and_gives_a_short_plain_name(text: str) -> None:
    name = parse_name(text)
    if name is None or name is SKIP:
        return
    assert isinstance(name, str)
    assert 0 < len(name) <= MAX_NAME_LENGTH
    assert all(char.isalpha() or char in " -'’." for char in name)


@fuzz
@given(text=TEXTS)
def test_parse_language_never_raises(text: str) -> None:
    assert parse_language(text) in {"en", "es", None}


@fuzz
@given(text=TEXTS)
@example(text="፩")
@example(text="1" * 5000)
def test_parse_schedule_never_raises_and_picks_from_the_menu(text: str) -> None:
    choice = parse_schedule(text)
    assert choice is None or choice in SCHEDULE_MENU.values()


@fuzz
@given(text=TEXTS)
@example(text="፩")
@example(text="9" * 4400)
def test_parse_pause_weeks_never_raises_and_stays_within_limits(text: str) -> None:
    assert 1 <= parse_pause_weeks(text) <= MAX_PAUSE_WEEKS


_SETTINGS = make_settings(database_url="sqlite://")


@fuzz
@given(text=TEXTS)
def test_classify_never_raises(text: str) -> None:
    keyword = classify(text, _SETTINGS)
    assert keyword is None or isinstance(keyword, Keyword)
    if keyword is not None:
        # What a command carries on to the parsers (PAUSE 2, LANG ES) parses without raising.
        parse_pause_weeks(keyword.argument)
        parse_language(keyword.argument)


# Decimal digits of other scripts are read as the digits they are; other numerals are not.
ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
DEVANAGARI = "०१२३४५६७८९"


@pytest.mark.parametrize("digits", [ARABIC_INDIC, DEVANAGARI, "０１２３４５６７８９"])
def test_decimal_digits_of_any_script_are_read_as_digits(digits: str) -> None:
    assert [unicodedata.decimal(char) for char in digits] == list(range(10))
    today = date(2026, 1, 15)
    assert parse_birth(f"{digits[8]} months", today=today, language="en") == Birth(
        date(2025, 5, 15), is_expected=False
    )
    written = f"3/14/{digits[2]}{digits[0]}{digits[2]}{digits[5]}"
    assert parse_birth(written, today=today, language="en") == Birth(
        date(2025, 3, 14), is_expected=False
    )
    assert parse_schedule(digits[3]) == SCHEDULE_MENU[3]
    assert parse_pause_weeks(digits[2]) == 2


@pytest.mark.parametrize("numeral", ["፩", "፫", "൱", "Ⅲ", "𐄇"])
def test_numerals_that_are_not_decimal_digits_are_not_numbers(numeral: str) -> None:
    today = date(2026, 1, 15)
    assert parse_birth(f"march {numeral}", today=today, language="en") is BirthProblem.UNREADABLE
    assert parse_schedule(numeral) is None
    assert parse_pause_weeks(numeral) == 4  # the default, as for PAUSE soon


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("march 99999999999999999999", BirthProblem.UNREADABLE),
        ("1" * 5000, BirthProblem.UNREADABLE),
        ("1000 years 1000 years 1000 years 1000 days", BirthProblem.TOO_OLD),
        ("due in " + "1000 years " * 8 + "1000 days", BirthProblem.TOO_FAR),
        ("8 months " * 7000, BirthProblem.TOO_OLD),
    ],
)
def test_huge_numbers_are_not_dates(text: str, problem: BirthProblem) -> None:
    assert parse_birth(text, today=date(2026, 1, 15), language="en") is problem


def test_huge_pause_is_the_longest_pause() -> None:
    # As PAUSE 52 is: a number past the limit means "as long as you can".
    assert parse_pause_weeks("9" * 4400) == MAX_PAUSE_WEEKS
    assert parse_pause_weeks("0" * 5000 + "2") == 2


@pytest.mark.parametrize("text", ["Stop!.", "stop -", "STOP . ."])
def test_trailing_punctuation_after_a_space_still_folds_away(text: str) -> None:
    # Found by test_fold_leaves_only_ascii_decimal_digits: fold() left "STOP " behind.
    assert fold(text) == "STOP"
    keyword = classify(text, _SETTINGS)
    assert keyword is not None and keyword.word == "STOP"
