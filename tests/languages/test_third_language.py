"""Adding a language is files only: a fixture language enrolls, gets a tip, passes the checker."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.languages.fixture import ASK_NAME, CODE, KEYWORD, make_content

REPO = Path(__file__).resolve().parents[2]
SMS_TIPS = Path(sys.executable).parent / "sms-tips"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return make_content(tmp_path / "content")


def run(content: Path, tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """A fresh process (the languages are read once, at import) with the fixture content."""
    env = {
        **os.environ,
        "SMS_TIPS_CONTENT_DIR": str(content),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'xx.db'}",
    }
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SMS_TIPS_ENV"):
        env.pop(name, None)
    return subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=240, check=False
    )


def test_the_fixture_language_passes_the_checker(content: Path, tmp_path: Path) -> None:
    result = run(content, tmp_path, str(SMS_TIPS), "content", "check")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert f"| {CODE} | 196 | 0 | 0 |" in result.stdout
    catalogs = r"content/messages/(\w+)\.yaml: (\d+) system messages checked"
    checked = re.findall(catalogs, result.stdout)
    assert dict(checked)[CODE] == dict(checked)["en"]  # every message, in the new language too


def test_a_parent_joins_in_the_fixture_language_and_gets_a_tip(
    content: Path, tmp_path: Path
) -> None:
    answers = [KEYWORD, "Ana", "8 MESES", "1"]
    result = run(
        content, tmp_path, sys.executable, "-m", "tests.languages.drill", "+12125550177", *answers
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["replies"][0] == [f"Little Moments: {ASK_NAME}"]
    assert (found["language"], found["status"]) == (CODE, "active")
    [tip] = found["tips"]
    assert tip["tip_id"].startswith(f"{CODE}-w0") and "Ana" in tip["body"]


def test_the_shipped_service_does_not_know_the_fixture_language(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from content.languages import codes; print(codes())"],
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if k != "SMS_TIPS_CONTENT_DIR"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "('en', 'es')"


def test_a_broken_content_folder_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = run(tmp_path / "nowhere", tmp_path, str(SMS_TIPS), "content", "check")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"sms-tips: a language file cannot be used: {tmp_path / 'nowhere' / 'languages'}: "
        "no en.yaml; the service starts in it"
    ]
