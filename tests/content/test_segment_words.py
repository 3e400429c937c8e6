"""Segment counts in words staff understand, rather than encodings and units."""

from __future__ import annotations

from content.segments import analyze, in_words


def test_a_short_plain_text_says_how_much_room_is_left() -> None:
    assert in_words(analyze("a" * 150)) == "1 text (10 characters left)"
    assert in_words(analyze("a" * 159)) == "1 text (1 character left)"


def test_a_long_plain_text_counts_its_texts() -> None:
    assert in_words(analyze("a" * 161)) == "2 texts"


def test_special_characters_are_named_with_the_language() -> None:
    info = analyze("Canten juntos’ " * 20)  # the curly apostrophe is not GSM-7
    assert info.encoding == "UCS-2"
    assert in_words(info, language_name="Spanish") == (
        f"{info.segments} texts (Spanish uses special characters such as ’: "
        "a text then holds 67 characters)"
    )
    assert in_words(analyze("hola’")) == (
        "1 text (uses special characters such as ’: a text then holds 70 characters)"
    )


def test_an_empty_text_is_empty() -> None:
    assert in_words(analyze("")) == "empty"
