"""The safety rules: a risky context without its clause fails, a reviewed exception passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.checker import CheckReport, check_library
from content.framing import RulesError
from content.library import LANGUAGES, load_library
from content.safety import load_safety, parse_safety
from tests.content.conftest import WriteTips, tip


def run(root: Path) -> CheckReport:
    return check_library(load_library(root))


def safety_lines(report: CheckReport) -> list[str]:
    return [finding.line() for finding in report.findings if finding.rule == "safety"]


CASES = [
    # (language, weeks, without the clause, with it, the rule)
    (
        "en",
        (40, 44),
        "At bath time, let {child} pour water from a cup and splash.",
        "At bath time, stay within arm's reach and let {child} pour water from a cup.",
        "water",
    ),
    (
        "en",
        (3, 7),
        "After a feed, rest together on the couch with {child} on your chest.",
        "After a feed, if you are sleepy, lay {child} on their back in their own crib.",
        "sleep",
    ),
    (
        "en",
        (60, 64),
        "Let {child} sort stones and beans into cups on the table.",
        "Let {child} sort stones bigger than their fist into cups on the table.",
        "small-objects",
    ),
    (
        "en",
        (80, 84),
        "Cook with {child} nearby and let your toddler smell the soup.",
        "Cook with {child} nearby, away from the stove, and smell the soup together.",
        "heat",
    ),
    (
        "es",
        (80, 84),
        "Jueguen con agua en el patio con vasos y cubetas.",
        "Jueguen con agua en el patio, al alcance de tu brazo, y luego vacien las cubetas.",
        "water",
    ),
    (
        "es",
        (0, 4),
        "Es un buen momento para descansar juntos con {child} en tu pecho.",
        "Si te da sueño, pon a {child} boca arriba en su cuna.",
        "sleep",
    ),
    (
        "es",
        (108, 112),
        "Hagan maracas con {child}: botes con frijoles.",
        "Hagan maracas con {child}: botes con frijoles, bien cerrados con cinta.",
        "small-objects",
    ),
    (
        "es",
        (30, 34),
        "Mientras cocinas, deja a {child} cerca de la estufa.",
        "Mientras cocinas, deja a {child} con una olla, lejos de la estufa.",
        "heat",
    ),
]


@pytest.mark.parametrize(("language", "weeks", "risky", "safe", "rule"), CASES)
def test_a_context_without_its_clause_fails_and_with_it_passes(
    write_tips: WriteTips,
    content_root: Path,
    language: str,
    weeks: tuple[int, int],
    risky: str,
    safe: str,
    rule: str,
) -> None:
    write_tips(language, [tip(f"{language}-risky", risky, weeks)])
    failed = safety_lines(run(content_root))
    assert failed, risky
    assert all(f"{language}-risky: safety: " in line for line in failed)
    assert any("needs a safety clause" in line and "AAP" in line for line in failed)
    write_tips(language, [tip(f"{language}-safe", safe, weeks)])
    assert safety_lines(run(content_root)) == []


def test_the_line_says_what_to_add(write_tips: WriteTips, content_root: Path) -> None:
    write_tips("en", [tip("en-car", "Sing with {child} in the car on the way home.", (60, 64))])
    (line,) = safety_lines(run(content_root))
    assert line.startswith("content/tips/en/tips.yaml: en-car: safety: 'in the car' needs")
    assert "say buckled into their car seat" in line


def test_a_rule_applies_only_at_its_ages(write_tips: WriteTips, content_root: Path) -> None:
    # Soft bedding is a sleep risk for babies; a toddler's blanket is not.
    write_tips("en", [tip("en-blanket", "Wrap {child} in a soft blanket for a story.", (70, 74))])
    assert safety_lines(run(content_root)) == []


def test_a_reviewed_exception_passes_and_is_reported(
    write_tips: WriteTips, content_root: Path
) -> None:
    spec = tip("es-muneco", "Jueguen a bañar a un muñeco y a darle de comer.", (130, 134))
    spec["safety_reviewed"] = {"rule": "water", "reason": "un muñeco de juego, sin agua"}
    write_tips("es", [spec])
    report = run(content_root)
    assert safety_lines(report) == []
    (reviewed,) = report.reviewed
    assert reviewed.item_id == "es-muneco"
    assert "water: 'bañar' reviewed as safe: un muñeco de juego, sin agua" in reviewed.message


@pytest.mark.parametrize("review", [{"rule": "water"}, {"rule": "water", "reason": " "}, "water"])
def test_a_reviewed_exception_needs_a_reason(
    write_tips: WriteTips, content_root: Path, review: object
) -> None:
    spec = tip("en-bath", "At bath time, name each toe with {child}.", (40, 44))
    spec["safety_reviewed"] = review
    write_tips("en", [spec])
    report = run(content_root)
    lines = safety_lines(report)
    assert any("needs a `rule` and a `reason`" in line for line in lines), lines
    assert any("needs a safety clause" in line for line in lines)  # not excused


def test_an_exception_for_an_unknown_or_unneeded_rule_is_reported(
    write_tips: WriteTips, content_root: Path
) -> None:
    unknown = tip("en-unknown", "Sing a song with {child}.", (40, 44))
    unknown["safety_reviewed"] = {"rule": "lava", "reason": "no volcano nearby"}
    unneeded = tip("en-unneeded", "Hum a tune for {child} at the window.", (45, 49))
    unneeded["safety_reviewed"] = {"rule": "water", "reason": "no water here"}
    write_tips("en", [unknown, unneeded])
    found = {f.item_id: f for f in run(content_root).findings if f.rule == "safety"}
    assert found["en-unknown"].severity == "error"
    assert "safety_reviewed names 'lava'" in found["en-unknown"].message
    assert found["en-unneeded"].severity == "warning"
    assert "remove it" in found["en-unneeded"].message


def test_both_languages_have_the_same_rules_with_their_sources() -> None:
    rules = {language: load_safety(language) for language in LANGUAGES}
    keys = {language: [rule.key for rule in found] for language, found in rules.items()}
    assert keys["en"] == keys["es"]
    assert {"water", "sleep", "small-objects", "heat", "car"} <= set(keys["en"])
    for language in LANGUAGES:
        assert all(rule.source.strip() and rule.add.strip() for rule in rules[language])


def test_a_malformed_safety_rule_names_the_file_and_the_rule() -> None:
    with pytest.raises(RulesError, match=r"rules/xx.yaml: safety rule 1 needs exactly"):
        parse_safety({"safety": [{"rule": "water"}]}, "rules/xx.yaml")
