"""Each checker rule fails a bad tip with a clear line; good tips pass every per-tip rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.checker import CheckReport, check_library, check_message
from content.findings import Finding
from content.library import load_library
from tests.content.conftest import GOOD_EN, GOOD_ES, WriteTips, tip


def run(root: Path) -> CheckReport:
    return check_library(load_library(root))


def lines(report: CheckReport, rule: str) -> list[str]:
    return [finding.line() for finding in report.findings if finding.rule == rule]


def only(report: CheckReport, rule: str) -> Finding:
    found = [finding for finding in report.findings if finding.rule == rule]
    assert len(found) == 1, [finding.line() for finding in report.findings]
    return found[0]


def test_good_tips_have_no_findings_but_the_coverage_they_cannot_give(
    write_tips: WriteTips, content_root: Path
) -> None:
    write_tips("en", [tip(f"en-good-{n}", text) for n, text in enumerate(GOOD_EN)])
    write_tips("es", [tip(f"es-good-{n}", text) for n, text in enumerate(GOOD_ES)])
    report = run(content_root)
    assert {finding.rule for finding in report.findings} == {"coverage"}
    english_gaps = [f for f in report.findings if f.file == "content/tips/en/"]
    assert report.summaries["en"].tips == 3
    assert report.summaries["en"].errors == len(english_gaps) > 0
    assert set(report.summaries["es"].ucs2_chars) == {"í", "ó"}  # ñ and é are GSM-7


def test_too_many_segments(write_tips: WriteTips, content_root: Path) -> None:
    long_text = " ".join(["You hold {child} close and hum a tune."] * 8)
    write_tips("en", [tip("en-long", long_text)])
    finding = only(run(content_root), "segments")
    assert finding.line().startswith("content/tips/en/tips.yaml: en-long: segments: 3 segments")
    assert "24-character program name and a 20-character child name" in finding.message
    assert finding.severity == "error"


def test_a_spanish_tip_with_accents_is_held_to_the_ucs2_limit(
    write_tips: WriteTips, content_root: Path
) -> None:
    # 120 characters would be one GSM-7 segment; with á it is UCS-2: prefix + name push it to 3.
    text = "Mamá y papá cantan con {child}. " * 4
    write_tips("es", [tip("es-acentos", text.strip())])
    report = run(content_root)
    assert "UCS-2" in only(report, "segments").message
    assert report.summaries["es"].ucs2 == 1
    assert report.summaries["es"].ucs2_chars["á"] == 1
    assert not lines(report, "encoding")  # á is expected in Spanish: counted, not flagged


def test_reports_characters_that_force_ucs2(write_tips: WriteTips, content_root: Path) -> None:
    write_tips(
        "en",
        [
            tip("en-curly", "It’s bath time. Tell {child} what you see and hear."),
            tip("en-emoji", "Sing to {child} while you walk. 😀 It can lift you both up."),
        ],
    )
    report = run(content_root)
    found = {finding.item_id: finding for finding in report.findings if finding.rule == "encoding"}
    assert found["en-curly"].severity == "error"
    assert "'’' (U+2019) forces UCS-2" in found["en-curly"].message
    assert 'use "\'"' in found["en-curly"].message
    assert found["en-emoji"].severity == "warning"
    assert (
        found["en-emoji"]
        .line()
        .startswith(
            "content/tips/en/tips.yaml: en-emoji: encoding (warning): '😀' (U+1F600) forces UCS-2"
        )
    )


@pytest.mark.parametrize(
    ("language", "text", "found"),
    [
        ("en", "If the first try failed, {child} can try again with you.", "failed"),
        ("en", "Some at-risk families sing at bath time with {child}.", "at-risk"),
        ("en", "You should sing to {child} at bath time.", "You should"),
        ("en", "Lacking time? Sing to {child} for one minute.", "Lacking"),
        ("en", "Bad habits can change. Sing to {child} tonight.", "Bad habits"),
        ("en", "Don’t ever skip the song at bedtime with {child}.", "Don’t ever"),
        ("es", "Las familias desfavorecidas también cantan con {child}.", "desfavorecidas"),
        ("es", "Debes cantar con {child} cada noche.", "Debes"),
        ("es", "Tienes que cantar con {child} cada noche.", "Tienes que"),
        ("es", "Los malos hábitos se cambian con {child} y una canción.", "malos hábitos"),
        ("es", "Si algo fracasó, canta con {child} otra vez.", "fracasó"),
    ],
)
def test_deficit_framing_with_inflections(
    write_tips: WriteTips, content_root: Path, language: str, text: str, found: str
) -> None:
    write_tips(language, [tip(f"{language}-deficit", text)])
    finding = only(run(content_root), "framing")
    assert finding.line().startswith(
        f"content/tips/{language}/tips.yaml: {language}-deficit: framing: deficit framing {found!r}"
    )
    assert "instead:" in finding.message


def test_reading_level_too_high(write_tips: WriteTips, content_root: Path) -> None:
    hard_en = (
        "Consistent, developmentally appropriate interactions facilitate {child}'s "
        "socioemotional regulation and attachment security."
    )
    hard_es = (
        "Las interacciones consistentes y apropiadas al desarrollo facilitan la regulación "
        "socioemocional de {child}."
    )
    write_tips("en", [tip("en-hard", hard_en)])
    write_tips("es", [tip("es-dificil", hard_es)])
    report = run(content_root)
    found = {
        finding.item_id: finding.message
        for finding in report.findings
        if finding.rule == "reading-level"
    }
    assert found["en-hard"].startswith("too hard to read: Flesch-Kincaid grade ")
    assert "(at most 6)" in found["en-hard"]
    assert "Fernández Huerta" in found["es-dificil"] and "Szigriszt-Pazos" in found["es-dificil"]


def test_unknown_placeholder(write_tips: WriteTips, content_root: Path) -> None:
    write_tips("en", [tip("en-placeholder", "Sing to {name} at bath time. {child} will smile.")])
    finding = only(run(content_root), "placeholder")
    assert finding.line() == (
        "content/tips/en/tips.yaml: en-placeholder: placeholder: unknown placeholder {name}; "
        "tips may use only {Child} and {child}"
    )


def test_stray_brace(write_tips: WriteTips, content_root: Path) -> None:
    write_tips("en", [tip("en-brace", "Sing to {child at bath time. It can calm you both.")])
    assert "stray { or }" in only(run(content_root), "placeholder").message


def test_duplicate_id(write_tips: WriteTips, content_root: Path) -> None:
    write_tips("en", [tip("en-same", GOOD_EN[0])], name="a.yaml")
    write_tips("en", [tip("en-same", GOOD_EN[1])], name="b.yaml")
    finding = only(run(content_root), "duplicate-id")
    assert finding.line() == (
        "content/tips/en/b.yaml: en-same: duplicate-id: duplicate id; first defined in "
        "content/tips/en/a.yaml"
    )


def test_near_duplicate_text(write_tips: WriteTips, content_root: Path) -> None:
    near = GOOD_EN[0].replace("bubbles, toes, a cup", "bubbles, toes, a duck")
    write_tips("en", [tip("en-first", GOOD_EN[0]), tip("en-again", near)])
    finding = only(run(content_root), "near-duplicate")
    assert finding.item_id == "en-again"
    assert "the same as en-first (content/tips/en/tips.yaml)" in finding.message


def test_unknown_theme(write_tips: WriteTips, content_root: Path) -> None:
    write_tips("en", [tip("en-theme", GOOD_EN[0], theme="discipline")])
    finding = only(run(content_root), "theme")
    assert finding.line().startswith(
        "content/tips/en/tips.yaml: en-theme: theme: unknown theme 'discipline'; themes: "
        "community, connection, joy, strengths, wellbeing"
    )


@pytest.mark.parametrize(
    ("weeks", "problem"),
    [
        ([14, 10], "the first week comes after the last"),
        ([150, 160], "outside -40..155"),
        ([-50, -40], "outside -40..155"),
        ([10], "two whole numbers"),
        ("10-14", "two whole numbers"),
        ([1.5, 3], "two whole numbers"),
    ],
)
def test_invalid_age_range(
    write_tips: WriteTips, content_root: Path, weeks: object, problem: str
) -> None:
    write_tips("en", [{"id": "en-range", "weeks": weeks, "theme": "joy", "text": GOOD_EN[0]}])
    finding = only(run(content_root), "age-range")
    assert finding.item_id == "en-range" and problem in finding.message


def test_broken_files_are_findings_not_crashes(write_tips: WriteTips, content_root: Path) -> None:
    (content_root / "tips" / "en" / "broken.yaml").write_text("tips: [\n  - id: en-x\n", "utf-8")
    write_tips("es", [{"id": "Bad Id!", "weeks": [1, 2]}, "just text", {"id": "es-part"}])
    write_tips("en", [tip("es-wrong-lang", GOOD_EN[0])], name="lang.yaml")
    report = run(content_root)
    messages = [
        finding.line() for finding in report.findings if finding.rule in {"structure", "id"}
    ]
    assert any(
        line.startswith("content/tips/en/broken.yaml: -: structure: not valid YAML")
        for line in messages
    )
    assert any("id 'Bad Id!' must be 1-64 characters" in line for line in messages)
    assert any("each tip must be a mapping" in line for line in messages)
    assert any(
        "es-part: structure: missing ['text', 'theme', 'weeks']" in line for line in messages
    )
    assert any("es-wrong-lang: id: id must start with 'en-'" in line for line in messages)


def test_coverage_gap_in_the_shipped_library_minus_some_tips(shipped_copy: Path) -> None:
    path = shipped_copy / "tips" / "en"
    report = run(shipped_copy)
    assert not lines(report, "coverage"), "the shipped English tips must cover every week"
    # Drop every English tip that may be sent at week 100: nothing is left to send that week.
    import yaml

    for file in path.glob("*.yaml"):
        data = yaml.safe_load(file.read_text("utf-8"))
        data["tips"] = [t for t in data["tips"] if not t["weeks"][0] <= 100 <= t["weeks"][1]]
        file.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    found = [f for f in run(shipped_copy).findings if f.rule == "coverage"]
    assert found and found[0].file == "content/tips/en/"
    assert "no distinct tip left at age week" in found[0].message
    assert any("100" in f.message for f in found)


def test_staff_messages_follow_the_safety_rules_too() -> None:
    found = check_message("Splash time! Bring your toddler to the pool on Saturday.", language="en")
    assert [finding.rule for finding in found] == ["safety"]
    assert "'pool' needs a safety clause" in found[0].message and "arm" in found[0].message
    safe = "Splash time at the pool on Saturday! Keep your toddler within arm's reach."
    assert check_message(safe, language="en") == []
    spanish = check_message("Hagan una cueva de cobijas y duerman la siesta ahí.", language="es")
    assert "safety" in {finding.rule for finding in spanish}


def test_staff_messages_are_checked_with_the_same_rules() -> None:
    assert check_message("Come sing with us at the park on Saturday!", language="en") == []
    rules = {f.rule for f in check_message("You must come. " * 30 + "{name}", language="en")}
    assert rules == {"framing", "segments", "placeholder"}
    hard = check_message(
        "Comprehensive developmental screening facilitates individualized interventions.",
        language="en",
        program_name="Little Moments",
    )
    assert [f.rule for f in hard] == ["reading-level"]
    assert check_message("  ", language="es")[0].rule == "structure"
    assert [f.rule for f in check_message("Debes venir el sábado.", language="es")] == ["framing"]
