"""Framing rules match whole words, with inflections, ignoring case, accents and hyphens."""

from __future__ import annotations

import pytest

from content.framing import RulesError, find_deficits, fold, load_rules, parse_rules


def found(text: str, language: str = "en") -> list[str]:
    return [hit.found for hit in find_deficits(text, load_rules(language))]


def test_fold_keeps_positions_and_drops_accents_and_curly_apostrophes() -> None:
    text = "MAMÁ Don’t Ñandú İstanbul"
    folded = fold(text)
    assert len(folded) == len(text)
    assert folded == "mama don't nandu istanbul"


@pytest.mark.parametrize(
    ("text", "hits"),
    [
        ("at risk, at-risk and at - risk", ["at risk", "at-risk", "at - risk"]),
        ("It failed, it fails, a failure", ["failed", "fails", "failure"]),
        ("A flack jacket and slacking off", []),  # whole words only
        ("YOU SHOULD rest", ["YOU SHOULD"]),
        ("Vulnerable families", ["Vulnerable families"]),
        ("A vulnerable moment, a bad moment", []),  # "mom" is not "moment"
        ("Not a bad mom, not bad moms", ["bad mom", "bad moms"]),
    ],
)
def test_english_matching(text: str, hits: list[str]) -> None:
    assert found(text) == hits


@pytest.mark.parametrize(
    ("text", "hits"),
    [
        ("un mal habito y un mal hábito", ["mal habito", "mal hábito"]),
        ("Familias DESFAVORECIDAS", ["DESFAVORECIDAS"]),
        ("Nunca   dejes de cantar", ["Nunca   dejes"]),
        ("Tú debes y tú deberías", ["debes", "deberías"]),
        ("Debemos cantar juntos", []),
    ],
)
def test_spanish_matching(text: str, hits: list[str]) -> None:
    assert found(text, "es") == hits


def test_each_hit_suggests_an_asset_framed_alternative() -> None:
    [hit] = find_deficits("You must rest.", load_rules("en"))
    assert hit.suggest.startswith("invite instead of instruct")


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"rules": "x"},
        {"rules": [{"match": "fail"}]},
        {"rules": [{"match": [""], "suggest": "x"}]},
    ],
)
def test_a_broken_rules_file_is_a_clear_error(data: object) -> None:
    with pytest.raises(RulesError, match=r"rules\.yaml"):
        parse_rules(data, "rules.yaml")
