from __future__ import annotations

from datetime import time

import pytest

from sms_service.core.errors import ConfigError
from sms_service.core.settings import Settings
from tests.helpers.settings import TEST_AUTH_TOKEN, service_environ


def read(environ: dict[str, str]) -> Settings:
    return Settings.from_env(environ, env_file=None)


def test_no_variables_gives_a_working_local_setup() -> None:
    settings = read({})
    assert settings.database_url == "sqlite:///sms_tips.db"
    assert not settings.twilio_enabled
    assert settings.quiet_hours.start == time(21, 0)
    assert settings.quiet_hours.end == time(8, 0)
    assert settings.keywords == {"en": ("JOIN",), "es": ("HOLA",)}


def test_full_twilio_configuration_is_accepted() -> None:
    settings = read(service_environ("postgres://u:pw@db.example/tips"))
    assert settings.twilio_enabled
    assert settings.database_url == "postgresql+psycopg://u:pw@db.example/tips"
    assert settings.url_for("/sms/inbound") == "https://tips.example.test/sms/inbound"


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://root@localhost/db"}, "DATABASE_URL"),
        ({"TWILIO_ACCOUNT_SID": "ACnope"}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_AUTH_TOKEN": ""}, "TWILIO_AUTH_TOKEN"),
        ({"TWILIO_MESSAGING_SERVICE_SID": ""}, "TWILIO_MESSAGING_SERVICE_SID"),
        (
            {"TWILIO_MESSAGING_SERVICE_SID": "", "TWILIO_FROM_NUMBER": "555-1234"},
            "TWILIO_FROM_NUMBER",
        ),
        ({"PUBLIC_BASE_URL": ""}, "PUBLIC_BASE_URL"),
        ({"PUBLIC_BASE_URL": "tips.example.org"}, "PUBLIC_BASE_URL"),
        ({"TWILIO_API_BASE_URL": "127.0.0.1:8787"}, "TWILIO_API_BASE_URL"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SMS_TIPS_TIMEZONE": "Mars/Olympus"}, "SMS_TIPS_TIMEZONE"),
        ({"SMS_TIPS_QUIET_HOURS": "9pm-8am"}, "SMS_TIPS_QUIET_HOURS"),
        ({"SMS_TIPS_SEND_RATE": "fast"}, "SMS_TIPS_SEND_RATE"),
        ({"SMS_TIPS_KEYWORDS_ES": "hola amigos"}, "SMS_TIPS_KEYWORDS_ES"),
        ({"SMS_TIPS_ENV": "staging"}, "SMS_TIPS_ENV"),
    ],
)
def test_a_bad_setting_is_named(overrides: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as raised:
        read(service_environ("sqlite:///x.db", **overrides))
    assert raised.value.variable == variable


def test_a_lone_twilio_variable_asks_for_its_companions() -> None:
    with pytest.raises(ConfigError) as raised:
        read({"TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN})
    assert raised.value.variable == "TWILIO_ACCOUNT_SID"


def test_production_requires_a_real_database_and_twilio() -> None:
    with pytest.raises(ConfigError) as raised:
        read({"SMS_TIPS_ENV": "production"})
    assert raised.value.variable == "DATABASE_URL"
    with pytest.raises(ConfigError) as raised:
        read({"SMS_TIPS_ENV": "production", "DATABASE_URL": "postgresql://db/tips"})
    assert raised.value.variable == "TWILIO_ACCOUNT_SID"


def test_production_requires_the_help_contact() -> None:
    environ = service_environ("postgresql://db/tips", SMS_TIPS_ENV="production")
    with pytest.raises(ConfigError) as raised:
        read(environ)
    assert raised.value.variable == "SMS_TIPS_HELP_CONTACT"
    assert "SMS_TIPS_ENV=production" in str(raised.value)
    contact = "families@example.org"
    assert read({**environ, "SMS_TIPS_HELP_CONTACT": contact}).help_contact == contact
    assert read({}).help_contact == "hello@example.org"  # local runs keep the default


def test_secrets_never_show_in_the_repr() -> None:
    settings = read(service_environ("postgresql://tips:hunter2hunter2@db/tips"))
    shown = repr(settings) + str(settings)
    assert TEST_AUTH_TOKEN not in shown
    assert "hunter2" not in shown
    assert str(settings.secret_key) not in shown


def test_dotenv_file_is_read(tmp_path: pytest.TempPathFactory) -> None:
    env_file = tmp_path / ".env"  # type: ignore[operator]
    env_file.write_text("SMS_TIPS_PROGRAM_NAME=Baby Talk\n")
    settings = Settings.from_env({}, env_file=env_file)
    assert settings.program_name == "Baby Talk"
    assert (
        Settings.from_env({"SMS_TIPS_PROGRAM_NAME": "Env Wins"}, env_file=env_file).program_name
        == "Env Wins"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("127.0.0.1", ("127.0.0.1",)), ("10.0.0.0/8, 172.16.0.0/12", ("10.0.0.0/8", "172.16.0.0/12"))],
)
def test_trusted_proxies_are_addresses_or_networks(raw: str, expected: tuple[str, ...]) -> None:
    settings = Settings.from_env({"SMS_TIPS_TRUSTED_PROXIES": raw}, env_file=None)
    assert settings.trusted_proxies == expected


@pytest.mark.parametrize("raw", ["*", "proxy.local", "10.0.0.0/40"])
def test_a_wildcard_or_a_name_is_not_a_trusted_proxy(raw: str) -> None:
    with pytest.raises(ConfigError, match="SMS_TIPS_TRUSTED_PROXIES"):
        Settings.from_env({"SMS_TIPS_TRUSTED_PROXIES": raw}, env_file=None)
