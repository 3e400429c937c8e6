"""The deploy files agree with the settings object and the README."""

from __future__ import annotations

from pathlib import Path

from sms_service.cli import build_parser
from tests.helpers.settings import filled_in

ROOT = Path(__file__).resolve().parents[2]


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / "deploy" / "env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_env_example_is_a_valid_production_configuration_once_secrets_are_filled() -> None:
    settings = filled_in(env_example())
    assert settings.is_production and settings.twilio_enabled


def test_every_deploy_variable_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in env_example() if f"`{name}`" not in readme]
    assert missing == []


def test_systemd_units_run_commands_the_cli_has() -> None:
    listed = build_parser().format_help().split()
    for unit in (ROOT / "deploy" / "systemd").glob("*.service"):
        [exec_start] = [
            line for line in unit.read_text().splitlines() if line.startswith("ExecStart=")
        ]
        assert exec_start.split()[1] in listed, unit.name
