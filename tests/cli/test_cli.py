"""The `sms-tips` command as an operator runs it: a real process, real environment variables."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers.settings import TEST_AUTH_TOKEN, service_environ


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sms_service", *args],
        env={"PATH": os.environ["PATH"], **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run_cli("--help", env={}, cwd=tmp_path)
    assert result.returncode == 0
    for command in ("serve", "web", "db", "staff"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"DATABASE_URL": "definitely not a url"}, "DATABASE_URL"),
        ({"TWILIO_ACCOUNT_SID": "AC" + "0" * 32}, "TWILIO_AUTH_TOKEN"),
        (service_environ("sqlite:///x.db", PUBLIC_BASE_URL=""), "PUBLIC_BASE_URL"),
    ],
)
def test_bad_configuration_is_one_line_naming_the_variable(
    tmp_path: Path, environ: dict[str, str], variable: str
) -> None:
    result = run_cli("db", "upgrade", env=environ, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "Traceback" not in result.stderr
    assert TEST_AUTH_TOKEN not in result.stderr


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    environ = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nowhere"}
    result = run_cli("db", "upgrade", env=environ, cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_and_staff_create_user(tmp_path: Path) -> None:
    environ = {"DATABASE_URL": f"sqlite:///{tmp_path / 'tips.db'}"}
    assert run_cli("db", "upgrade", env=environ, cwd=tmp_path).returncode == 0
    environ["SMS_TIPS_NEW_PASSWORD"] = "correct horse battery"
    created = run_cli(
        "staff", "create-user", "ana@example.org", "--role", "admin", env=environ, cwd=tmp_path
    )
    assert created.returncode == 0, created.stderr
    assert "created network admin account ana@example.org" in created.stdout
    again = run_cli("staff", "create-user", "ana@example.org", env=environ, cwd=tmp_path)
    assert again.returncode == 1
    assert "already exists" in again.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_on_a_fresh_directory_answers_healthz(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sms_service", "serve", "--port", str(port)],
        env={"PATH": os.environ["PATH"]},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        assert response.status_code == 200
        assert (tmp_path / "sms_tips.db").exists()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert f"listening on http://127.0.0.1:{port}" in output
