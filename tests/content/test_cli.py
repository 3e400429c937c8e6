"""`sms-tips content ...` as an operator runs it: a real process, real files, a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from sms_service.cli import main
from sms_service.cli.common import CommandError
from sms_service.cli.content import parse_age
from sms_service.core.models import Tip as TipRow
from tests.content.conftest import GOOD_EN, WriteTips, tip


def main_in_process(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The same command without a new interpreter (the textstat and CMU imports are slow)."""
    code = main(["content", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sms_service", "content", *args],
        env={"PATH": os.environ["PATH"], **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("age", "weeks"),
    [("10w", 10), ("8m", 34), ("2y", 104), ("-6w", -6), ("0m", 0), (" 35m ", 152)],
)
def test_ages_in_weeks_months_and_years(age: str, weeks: int) -> None:
    assert parse_age(age) == weeks


@pytest.mark.parametrize("age", ["eight months", "8", "3y", "8 m x"])
def test_bad_ages_are_one_clear_error(age: str) -> None:
    with pytest.raises(CommandError, match="age"):
        parse_age(age)


def test_check_prints_one_line_per_finding_a_summary_and_fails(
    write_tips: WriteTips, content_root: Path, tmp_path: Path
) -> None:
    write_tips("en", [tip("en-bad", "You must sing to {child} at bath time.")])
    result = run_cli("check", "--root", str(content_root), "--no-catalogs", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert (
        "content/tips/en/tips.yaml: en-bad: framing: deficit framing 'You must'; instead: "
        in result.stdout
    )
    assert (
        "en-bad: safety: 'bath' needs a safety clause: say that a grown-up stays within "
        "arm's reach" in result.stdout
    )
    assert "| language | tips | errors | warnings | GSM-7 / UCS-2 tips |" in result.stdout
    assert "| en | 1 | " in result.stdout
    assert "content check FAILED" in result.stdout


def test_check_passes_on_the_shipped_library(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = main_in_process("check", capsys=capsys)
    assert code == 0, out[-3000:]
    assert "content check passed: 0 error(s)" in out
    assert "reviewed safety exception(s), allowed:" in out  # each with its reason
    assert "en-w027-towel-peekaboo: water: 'bath' reviewed as safe: after the bath" in out


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A clean working directory (no .env) and no SMS_TIPS_* settings from outside."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("SMS_TIPS_", "TWILIO_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    return monkeypatch


def test_preview_shows_the_next_tips_with_segments(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = main_in_process(
        "preview", "--age", "8m", "--lang", "es", "--name", "Ána", "--weeks", "3", capsys=capsys
    )
    assert code == 0
    headers = [line for line in out.splitlines() if line.startswith("week ")]
    assert [line.split(":")[0] for line in headers] == ["week 34", "week 35", "week 36"]
    assert all(" segment(s), " in line and "es-" in line for line in headers)
    bodies = [line for line in out.splitlines() if line.startswith("  Little Moments: ")]
    assert len(bodies) == 3
    code, out, _ = main_in_process("preview", "--age=-6w", "--weeks", "1", capsys=capsys)
    assert out.startswith("week -6: en-")


def test_stats_show_bands_languages_and_themes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = main_in_process("stats", capsys=capsys)
    assert code == 0
    assert "en: " in out and "es: " in out
    for label in ("prenatal", "0-3 months", "24-36 months", "connection", "community"):
        assert label in out
    assert "en: the name 'Sofía' as written turns " in out  # its segment cost is shown
    assert "es: the name 'Sofía' as written turns " in out


def test_load_syncs_into_the_database_and_is_idempotent(
    database_url: str,
    sessions: sessionmaker[Session],
    environment: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    environment.setenv("DATABASE_URL", database_url)
    code, out, err = main_in_process("load", capsys=capsys)
    assert code == 0, err
    with sessions() as session:
        count = session.scalar(select(func.count()).select_from(TipRow))
    assert count and count >= 2 * 168
    assert f"tips: {count} new, 0 new versions" in out
    code, out, err = main_in_process("load", capsys=capsys)
    assert out.strip() == f"tips: 0 new, 0 new versions, 0 restored, 0 retired, {count} unchanged"


def test_load_refuses_a_library_that_fails_the_check(
    database_url: str,
    sessions: sessionmaker[Session],
    write_tips: WriteTips,
    content_root: Path,
    environment: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    environment.setenv("DATABASE_URL", database_url)
    write_tips("en", [tip("en-good", GOOD_EN[0])])
    code, _, err = main_in_process("load", "--root", str(content_root), capsys=capsys)
    assert code == 1
    assert "error(s); `sms-tips content check` lists them" in err
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(TipRow)) == 0


def test_a_folder_that_is_not_content_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = main_in_process("stats", "--root", str(tmp_path / "nothing"), capsys=capsys)
    assert code == 1
    assert (
        err.strip()
        == f"sms-tips: {tmp_path / 'nothing'} is not a content folder (no themes.yaml, no tips/)"
    )
