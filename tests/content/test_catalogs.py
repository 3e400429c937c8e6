"""System message catalogs go through the same checks, with their costliest placeholder values."""

from __future__ import annotations

from pathlib import Path

import yaml

from content.catalogs import catalog_samples, check_catalog
from content.message_rules import WORST_NAME, WORST_PROGRAM

FRAGMENTS = {
    "frequency_one": "about 1 message a week",
    "frequency_many": "about {count} messages a week",
    "weekday_names": "Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday",
    "month_names": (
        "January,February,March,April,May,June,July,August,September,October,November,December"
    ),
    "date_format": "{month} {day}",
    "when_morning": "every {day} morning",
    "when_afternoon": "every {day} afternoon",
}


def write(tmp_path: Path, language: str, messages: dict[str, str]) -> Path:
    path = tmp_path / f"{language}.yaml"
    path.write_text(yaml.safe_dump({**messages, **FRAGMENTS}, allow_unicode=True), "utf-8")
    return path


def test_placeholders_take_their_costliest_values_from_the_catalog() -> None:
    samples = catalog_samples(
        {**FRAGMENTS, "weekday_names": "lunes,martes,miércoles,jueves,viernes,sábado,domingo"}
    )
    assert samples["program"] == WORST_PROGRAM and samples["child"] == WORST_NAME
    assert samples["frequency"] == "about 7 messages a week"
    # Only the menu's days (Monday, Wednesday, Sunday): sábado, whose á would force UCS-2,
    # can never be sent.
    assert samples["when"] == "every miércoles afternoon"
    assert samples["date"] == "September 30"


def test_good_messages_pass_and_fragments_are_not_messages(tmp_path: Path) -> None:
    path = write(
        tmp_path, "en", {"paused": "Your tips are paused until {date}. Text RESUME to start again."}
    )
    assert check_catalog(path, language="en") == []


def test_a_message_too_long_with_the_longest_values_fails(tmp_path: Path) -> None:
    text = "You're signed up for {program}! We will send {frequency}, {when}. " * 3
    findings = check_catalog(write(tmp_path, "en", {"enrolled": text}), language="en")
    assert [f.rule for f in findings] == ["segments"]
    assert findings[0].line().startswith(f"{tmp_path / 'en.yaml'}: enrolled: segments: 3 segments")


def test_unknown_and_broken_placeholders(tmp_path: Path) -> None:
    findings = check_catalog(
        write(
            tmp_path, "en", {"odd": "Hi {nickname}, see you soon.", "bad": "Hi {child, see you."}
        ),
        language="en",
    )
    by_key = {f.item_id: f for f in findings}
    assert by_key["odd"].severity == "warning" and "{nickname}" in by_key["odd"].message
    assert by_key["bad"].rule == "placeholder" and by_key["bad"].severity == "error"


def test_framing_and_reading_level_apply_to_system_messages(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "es",
        {
            "a": "Debes responder SI para seguir.",
            "b": "La comunicación interinstitucional garantiza confidencialidad administrativa.",
        },
    )
    rules = {f.item_id: f.rule for f in check_catalog(path, language="es")}
    assert rules == {"a": "framing", "b": "reading-level"}


def test_a_catalog_that_is_not_a_mapping_is_one_clear_finding(tmp_path: Path) -> None:
    path = tmp_path / "en.yaml"
    path.write_text("- just\n- a list\n", "utf-8")
    [finding] = check_catalog(path, language="en")
    assert finding.rule == "structure" and "mapping" in finding.message
