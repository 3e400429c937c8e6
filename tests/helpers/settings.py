"""Settings for tests: Twilio configured with test credentials, so signatures are checked."""

from __future__ import annotations

from typing import Any

from sms_service.core.settings import Settings

TEST_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TEST_AUTH_TOKEN = "f00dfeedcafe0123456789abcdef0123"
TEST_MESSAGING_SERVICE_SID = "MG" + "fedcba9876543210" * 2
TEST_PUBLIC_BASE_URL = "https://tips.example.test"
TEST_SECRET_KEY = "test-secret-key-0123456789abcdef-xyz"


def service_environ(database_url: str, **overrides: str) -> dict[str, str]:
    """The environment variables of a fully configured service."""
    environ = {
        "DATABASE_URL": database_url,
        "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": TEST_MESSAGING_SERVICE_SID,
        "PUBLIC_BASE_URL": TEST_PUBLIC_BASE_URL,
        "SECRET_KEY": TEST_SECRET_KEY,
    }
    environ.update(overrides)
    return environ


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings read the way the service reads them, from an environment."""
    return Settings.from_env(service_environ(database_url, **overrides), env_file=None)


def filled_in(example: dict[str, str]) -> Settings:
    """The settings of a deploy example file (env.example, compose.env.example) once an
    operator has filled in its secrets and real Twilio ids."""
    values = dict(example)
    values.update(
        TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
        SECRET_KEY=TEST_SECRET_KEY,
        SMS_TIPS_HELP_CONTACT="families@example.org or 555-0100",
    )
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_MESSAGING_SERVICE_SID"):
        values[name] = values[name].replace("x", "0")
    return Settings.from_env(values, env_file=None)
