"""`sms-tips doctor` against a real database and the fake Twilio API: OK, or what to fix."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from sms_service.core.checks import Check
from sms_service.delivery.twilio_setup import check_twilio_setup
from tests.cli.test_cli import run_cli
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.scheduler import lead_once
from tests.helpers.settings import (
    TEST_MESSAGING_SERVICE_SID,
    TEST_PUBLIC_BASE_URL,
    make_settings,
    service_environ,
)

INBOUND = TEST_PUBLIC_BASE_URL + "/sms/inbound"


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def test_a_healthy_deployment_passes_every_check(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    with FakeTwilio() as fake:
        fake.services[TEST_MESSAGING_SERVICE_SID] = {
            "friendly_name": "Little Moments",
            "inbound_request_url": INBOUND,
            "use_inbound_webhook_on_number": False,
        }
        lead_once(make_settings(database_url), engine)
        result = run_cli(
            "doctor", env=service_environ(database_url, TWILIO_API_BASE_URL=fake.url), cwd=tmp_path
        )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    names = [line.split(":")[0].split(maxsplit=1)[1] for line in lines]
    assert names == [
        "settings",
        "content",
        "database",
        "schema",
        "scheduler",
        "twilio credentials",
        "twilio sender",
    ]
    assert all(line.startswith("OK") for line in lines), result.stdout


def test_a_misconfigured_deployment_is_told_what_to_fix(database_url: str, tmp_path: Path) -> None:
    with FakeTwilio() as fake:
        fake.services[TEST_MESSAGING_SERVICE_SID] = {
            "friendly_name": "Little Moments",
            "inbound_request_url": "https://old-host.example.org/sms",
            "use_inbound_webhook_on_number": False,
        }
        result = run_cli(
            "doctor", env=service_environ(database_url, TWILIO_API_BASE_URL=fake.url), cwd=tmp_path
        )
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert failed == [
        "FAIL  scheduler: no scheduler has run on this database: start sms-tips scheduler",
        "FAIL  twilio sender: Messaging Service 'Little Moments' sends incoming texts to "
        f"https://old-host.example.org/sms, not {INBOUND}",
    ]


def test_twilio_problems_are_named(database_url: str) -> None:
    with FakeTwilio() as fake:
        settings = make_settings(database_url, TWILIO_API_BASE_URL=fake.url)
        missing = by_name(check_twilio_setup(settings))["twilio sender"]
        assert not missing.ok and "is not a service of this account" in missing.detail

        wrong_token = make_settings(
            database_url, TWILIO_API_BASE_URL=fake.url, TWILIO_AUTH_TOKEN="f" * 32
        )
        refused = check_twilio_setup(wrong_token)
        assert refused == [Check("twilio credentials", False, "Twilio refused TWILIO_AUTH_TOKEN")]

        number = make_settings(
            database_url,
            TWILIO_API_BASE_URL=fake.url,
            TWILIO_MESSAGING_SERVICE_SID="",
            TWILIO_FROM_NUMBER="+15005550006",
        )
        assert "is not a number of this account" in str(check_twilio_setup(number))
        fake.numbers["+15005550006"] = INBOUND
        assert all(check.ok for check in check_twilio_setup(number))
        fake.account_status = "suspended"
        assert by_name(check_twilio_setup(number))["twilio credentials"].ok is False
