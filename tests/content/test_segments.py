"""Segment counting as carriers do it: GSM-7 160/153 with extension characters, UCS-2 70/67."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.segments import GSM_BASIC, analyze


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters cost two septets
        ("[" * 80 + "a", "GSM-7", 161, 2),
        ("a" * 159 + "]", "GSM-7", 161, 2),
        ("á" * 70, "UCS-2", 70, 1),
        ("á" * 71, "UCS-2", 71, 2),
        ("á" * 134, "UCS-2", 134, 2),
        ("á" * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),  # an emoji is two UTF-16 units
        ("😀" * 36, "UCS-2", 72, 2),
        ("¿Qué tal? ¡Niño, pingüino, mamá!", "UCS-2", 32, 1),  # only á is outside GSM-7
        ("¿Qué tal? ¡Niño, pingüino, café! Ça, Øre", "GSM-7", 40, 1),
    ],
)
def test_encoding_units_and_segments(text: str, encoding: str, units: int, segments: int) -> None:
    info = analyze(text)
    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)


def test_a_multipart_message_never_splits_an_escape_or_a_surrogate_pair() -> None:
    # 152 septets then "€" (2): the euro sign moves whole to part two; 153 + 153 + 1 = 3 parts.
    assert analyze("a" * 152 + "€" + "a" * 152).segments == 3
    assert analyze("a" * 151 + "€" + "a" * 153).segments == 2
    # 66 units then an emoji: it cannot straddle the 67-unit boundary.
    assert analyze("á" * 66 + "😀" + "á" * 66).segments == 3
    assert analyze("á" * 65 + "😀" + "á" * 67).segments == 2


def test_reports_each_character_that_forces_ucs2_once_in_order() -> None:
    info = analyze("It’s “fine” ’ 😀")
    assert info.non_gsm == ("’", "“", "”", "😀")
    assert analyze("Plain text, ñ é ü ¿ ¡ € [ ].").non_gsm == ()


@given(st.text(alphabet=sorted(GSM_BASIC), max_size=700))
def test_plain_gsm_text_follows_the_160_153_formula(text: str) -> None:
    info = analyze(text)
    expected = 0 if not text else 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    assert (info.encoding, info.units, info.segments) == ("GSM-7", len(text), expected)


@given(st.text(alphabet="áéñ€[abc ", min_size=1, max_size=400))
def test_ucs2_without_surrogates_follows_the_70_67_formula(text: str) -> None:
    info = analyze(text + "á")
    units = len(text) + 1
    assert info.encoding == "UCS-2"
    assert info.segments == (1 if units <= 70 else math.ceil(units / 67))
