"""The service's one settings object, read from environment variables and an optional `.env`."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from starlette.config import Config
from starlette.datastructures import Secret

from content.languages import CONTENT_DIR_VARIABLE, LanguageError, languages
from sms_service.core.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///sms_tips.db"
# Used only when nothing secret is at stake (no Twilio, not production); start-up warns.
LOCAL_SECRET_KEY = "local-development-only-not-secret"

_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_AUTH_TOKEN = re.compile(r"^[0-9a-zA-Z]{32}$")
_MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_HOUR_MINUTE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_KEYWORD = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,29}$")
# A bearer token as a header carries it (RFC 6750 b64token), long enough not to be guessed.
_METRICS_TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]{32,256}=*$")
# prometheus_client's own variable: the directory every process of the service writes its
# metric files to (multiprocess mode); read here too so /metrics knows to aggregate them.
MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
LOG_FORMATS = ("text", "json")

_Getter = Callable[[str, str | None], str | None]


# The webhook routes Twilio calls, below PUBLIC_BASE_URL (url_for builds their public URLs).
INBOUND_PATH = "/sms/inbound"
STATUS_PATH = "/sms/status"


@dataclass(frozen=True)
class QuietHours:
    """The daily window in which no message may be sent, in the recipient's local time."""

    start: time  # quiet from here (e.g. 21:00) ...
    end: time  # ... until here (e.g. 08:00)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Settings:
    """Typed configuration; build it with `Settings.from_env()`."""

    database_url: str = DEFAULT_DATABASE_URL
    environment: str = "local"
    twilio_account_sid: str | None = None
    twilio_auth_token: Secret | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_from_number: str | None = None
    # Another Messages API (a staging stand-in, the fake Twilio for drills); None is Twilio.
    twilio_api_base_url: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: Secret = field(default_factory=lambda: Secret(LOCAL_SECRET_KEY))
    program_name: str = "Little Moments"
    help_contact: str = "hello@example.org"
    timezone: str = "America/New_York"
    quiet_hours: QuietHours = field(
        default_factory=lambda: QuietHours(start=time(21, 0), end=time(8, 0))
    )
    messages_per_week: int = 1
    # Enrollment keywords by language: SMS_TIPS_KEYWORDS_<CODE>, else the language file's.
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _keywords_by_language())
    send_rate: float = 1.0  # segments per second, as carriers count MPS
    dispatch_concurrency: int = 100
    # Requests of one web process running database work at once (the rest wait their turn):
    # more threads fight over one interpreter lock and each request takes longer (4 against 2
    # gave PostgreSQL webhooks a p99 of 105-114 ms against 88-91 ms, the same throughput).
    web_db_threads: int = 2
    # Processes `sms-tips web` serves from (one per core on PostgreSQL): Python runs one
    # thread at a time, so one process uses one core however many requests wait.
    web_workers: int = 1
    # How long a claimed text is a dispatcher's before another may reconcile and send it.
    dispatch_lease_seconds: int = 300
    planner_interval_minutes: int = 5
    # How long a survey question waits for its answer: the family's next text within it is read
    # as the answer; after it the question closes for that family.
    survey_answer_window_hours: int = 48
    # The most local messages (campaign texts by a partner's staff) a partner may send in a
    # calendar month, approved or waiting for approval: a network setting, the same for all.
    partner_monthly_messages: int = 4
    scheduler_takeover_seconds: int = 5
    log_level: str = "INFO"
    # Addresses whose X-Forwarded-For/-Proto the web server believes (a reverse proxy).
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)
    log_format: str = "text"  # "json" (one JSON object a line) by default in production
    # The bearer token /metrics asks for; None: production refuses /metrics, local answers
    # loopback clients only.
    metrics_token: Secret | None = None
    metrics_multiproc_dir: str | None = None  # PROMETHEUS_MULTIPROC_DIR

    @property
    def twilio_enabled(self) -> bool:
        """True when real SMS go through Twilio (otherwise the console transport is used)."""
        return self.twilio_account_sid is not None

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def uses_local_secret(self) -> bool:
        return str(self.secret_key) == LOCAL_SECRET_KEY

    def url_for(self, path: str) -> str:
        """The public URL of one of this service's paths, as Twilio reaches it."""
        return self.public_base_url.rstrip("/") + path

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
    ) -> Settings:
        """Read and check every setting; raise ConfigError naming the first bad variable."""
        env = os.environ if environ is None else environ
        file = Path(env_file) if env_file is not None else None
        config = Config(file if file is not None and file.is_file() else None, environ=env)

        def get(name: str, default: str | None = None) -> str | None:
            value = config.get(name, default=default)
            if value is None:
                return None
            value = str(value).strip()
            return value or default

        environment = (get("SMS_TIPS_ENV", "local") or "local").lower()
        if environment not in {"local", "production"}:
            raise ConfigError("SMS_TIPS_ENV", "must be 'local' or 'production'")

        database_url = _database_url(get("DATABASE_URL", DEFAULT_DATABASE_URL) or "")
        if environment == "production" and get("DATABASE_URL") is None:
            raise ConfigError("DATABASE_URL", "is required when SMS_TIPS_ENV=production")

        account_sid = get("TWILIO_ACCOUNT_SID")
        auth_token = get("TWILIO_AUTH_TOKEN")
        service_sid = get("TWILIO_MESSAGING_SERVICE_SID")
        from_number = get("TWILIO_FROM_NUMBER")
        public_base_url = get("PUBLIC_BASE_URL")
        secret_key = get("SECRET_KEY")
        twilio_wanted = any((account_sid, auth_token, service_sid, from_number))
        if twilio_wanted or environment == "production":
            _check_twilio(account_sid, auth_token, service_sid, from_number)
            if public_base_url is None:
                raise ConfigError(
                    "PUBLIC_BASE_URL",
                    "is required with Twilio: it is the URL Twilio signs webhook requests for",
                )
            if secret_key is None:
                raise ConfigError("SECRET_KEY", "is required with Twilio or in production")
        if environment == "production" and get("SMS_TIPS_HELP_CONTACT") is None:
            # HELP gives it to every family; the default address reaches no one.
            raise ConfigError("SMS_TIPS_HELP_CONTACT", "is required when SMS_TIPS_ENV=production")
        if public_base_url is not None:
            _check_base_url("PUBLIC_BASE_URL", public_base_url)
        api_base_url = get("TWILIO_API_BASE_URL")
        if api_base_url is not None:
            _check_base_url("TWILIO_API_BASE_URL", api_base_url)
        if secret_key is not None and len(secret_key) < 32:
            raise ConfigError("SECRET_KEY", "must be at least 32 characters long")

        timezone = get("SMS_TIPS_TIMEZONE", cls.timezone) or cls.timezone
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                "SMS_TIPS_TIMEZONE", f"{timezone!r} is not an IANA time zone"
            ) from None

        program_name = get("SMS_TIPS_PROGRAM_NAME", cls.program_name) or cls.program_name
        if len(program_name) > 24:
            raise ConfigError(
                "SMS_TIPS_PROGRAM_NAME", "must be 24 characters or fewer (it prefixes every text)"
            )
        multiproc_dir = _multiproc_dir(get(MULTIPROC_DIR_VARIABLE), env)

        return cls(
            database_url=database_url,
            environment=environment,
            twilio_account_sid=account_sid,
            twilio_auth_token=Secret(auth_token) if auth_token else None,
            twilio_messaging_service_sid=service_sid,
            twilio_from_number=from_number,
            twilio_api_base_url=api_base_url.rstrip("/") if api_base_url else None,
            public_base_url=(public_base_url or cls.public_base_url).rstrip("/"),
            secret_key=Secret(secret_key or LOCAL_SECRET_KEY),
            program_name=program_name,
            help_contact=get("SMS_TIPS_HELP_CONTACT", cls.help_contact) or cls.help_contact,
            timezone=timezone,
            quiet_hours=_quiet_hours(get("SMS_TIPS_QUIET_HOURS", "21:00-08:00") or ""),
            messages_per_week=_int("SMS_TIPS_MESSAGES_PER_WEEK", get, 1, 1, 7),
            keywords=_keywords_by_language(get),
            send_rate=_float("SMS_TIPS_SEND_RATE", get, 1.0, 0.01, 10_000.0),
            dispatch_concurrency=_int("SMS_TIPS_DISPATCH_CONCURRENCY", get, 100, 1, 1000),
            web_db_threads=_int("SMS_TIPS_WEB_DB_THREADS", get, 2, 1, 64),
            web_workers=_web_workers(get, database_url, multiproc_dir),
            dispatch_lease_seconds=_int("SMS_TIPS_DISPATCH_LEASE_SECONDS", get, 300, 10, 3600),
            planner_interval_minutes=_int("SMS_TIPS_PLANNER_INTERVAL_MINUTES", get, 5, 1, 60),
            survey_answer_window_hours=_int(
                "SMS_TIPS_SURVEY_ANSWER_WINDOW_HOURS", get, 48, 1, 24 * 14
            ),
            partner_monthly_messages=_int("SMS_TIPS_PARTNER_MONTHLY_MESSAGES", get, 4, 0, 100),
            scheduler_takeover_seconds=_int("SMS_TIPS_SCHEDULER_TAKEOVER_SECONDS", get, 5, 1, 300),
            log_level=_log_level(get("SMS_TIPS_LOG_LEVEL", "INFO") or "INFO"),
            trusted_proxies=_networks(
                "SMS_TIPS_TRUSTED_PROXIES", get("SMS_TIPS_TRUSTED_PROXIES", "127.0.0.1") or ""
            ),
            log_format=_log_format(get("SMS_TIPS_LOG_FORMAT"), environment),
            metrics_token=_metrics_token(get("SMS_TIPS_METRICS_TOKEN")),
            metrics_multiproc_dir=multiproc_dir,
        )

    def __repr__(self) -> str:
        # Secret already masks itself; the database URL may carry a password.
        shown = make_url(self.database_url).render_as_string(hide_password=True)
        return (
            f"Settings(environment={self.environment!r}, database_url={shown!r}, "
            f"twilio_enabled={self.twilio_enabled}, public_base_url={self.public_base_url!r}, "
            f"program_name={self.program_name!r}, timezone={self.timezone!r}, "
            f"quiet_hours='{self.quiet_hours}')"
        )


def _database_url(raw: str) -> str:
    try:
        url: URL = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            "DATABASE_URL", "is not a database URL (e.g. postgresql://user@host/db)"
        ) from None
    backend = url.get_backend_name()
    if backend in {"postgres", "postgresql"}:
        url = url.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise ConfigError("DATABASE_URL", f"{backend!r} is not supported: use sqlite or postgresql")
    if backend != "sqlite" and not url.database:
        raise ConfigError("DATABASE_URL", "names no database")
    return url.render_as_string(hide_password=False)


def _check_twilio(
    account_sid: str | None,
    auth_token: str | None,
    service_sid: str | None,
    from_number: str | None,
) -> None:
    if account_sid is None:
        raise ConfigError("TWILIO_ACCOUNT_SID", "is required when Twilio is configured")
    if not _ACCOUNT_SID.match(account_sid):
        raise ConfigError("TWILIO_ACCOUNT_SID", "must look like AC followed by 32 hex digits")
    if auth_token is None:
        raise ConfigError("TWILIO_AUTH_TOKEN", "is required when TWILIO_ACCOUNT_SID is set")
    if not _AUTH_TOKEN.match(auth_token):
        raise ConfigError("TWILIO_AUTH_TOKEN", "must be 32 letters or digits")
    if service_sid is None and from_number is None:
        raise ConfigError(
            "TWILIO_MESSAGING_SERVICE_SID",
            "or TWILIO_FROM_NUMBER is required: messages need a sender",
        )
    if service_sid is not None and not _MESSAGING_SERVICE_SID.match(service_sid):
        raise ConfigError(
            "TWILIO_MESSAGING_SERVICE_SID", "must look like MG followed by 32 hex digits"
        )
    if from_number is not None and not _E164.match(from_number):
        raise ConfigError("TWILIO_FROM_NUMBER", "must be an E.164 number such as +15551234567")


def _check_base_url(name: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(name, "must be an http(s) URL such as https://tips.example.org")


def _quiet_hours(raw: str) -> QuietHours:
    start, _, end = raw.replace(" ", "").partition("-")
    first, second = _HOUR_MINUTE.match(start), _HOUR_MINUTE.match(end)
    if first is None or second is None or start == end:
        raise ConfigError("SMS_TIPS_QUIET_HOURS", "must look like 21:00-08:00 (quiet from-until)")
    return QuietHours(
        start=time(int(first.group(1)), int(first.group(2))),
        end=time(int(second.group(1)), int(second.group(2))),
    )


def _keywords_by_language(get: _Getter | None = None) -> dict[str, tuple[str, ...]]:
    """Each language's enrollment keywords; a word may start only one language."""
    try:
        known = languages()
    except LanguageError as error:
        raise ConfigError(CONTENT_DIR_VARIABLE, str(error)) from None
    found: dict[str, tuple[str, ...]] = {}
    for code, language in known.items():
        name = f"SMS_TIPS_KEYWORDS_{code.upper()}"
        default = ",".join(language.enroll_keywords)
        words = _keywords(name, get(name, default) if get else default)
        for other, taken in found.items():
            if set(words) & set(taken):
                raise ConfigError(name, f"shares a keyword with SMS_TIPS_KEYWORDS_{other.upper()}")
        found[code] = words
    return found


def _keywords(name: str, raw: str | None) -> tuple[str, ...]:
    words = tuple(word.strip().upper() for word in (raw or "").split(",") if word.strip())
    if not words or not all(_KEYWORD.match(word) for word in words):
        raise ConfigError(name, "must be a comma-separated list of words such as JOIN,JOIN-LIBRARY")
    return words


def _int(name: str, get: _Getter, default: int, low: int, high: int) -> int:
    raw = get(name, str(default))
    try:
        value = int(raw or default)
    except ValueError:
        raise ConfigError(name, "must be a whole number") from None
    if not low <= value <= high:
        raise ConfigError(name, f"must be between {low} and {high}")
    return value


def _float(name: str, get: _Getter, default: float, low: float, high: float) -> float:
    raw = get(name, str(default))
    try:
        value = float(raw or default)
    except ValueError:
        raise ConfigError(name, "must be a number") from None
    if not low <= value <= high:
        raise ConfigError(name, f"must be between {low} and {high}")
    return value


def _networks(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated IP addresses or networks (10.0.0.0/8); never "*": a client could then
    claim any address and dodge the sign-in throttle."""
    found = tuple(part.strip() for part in raw.split(",") if part.strip())
    try:
        for part in found:
            ipaddress.ip_network(part, strict=False)
    except ValueError:
        raise ConfigError(name, "must be comma-separated IP addresses or networks") from None
    if not found:
        raise ConfigError(name, "must name at least one address, such as 127.0.0.1")
    return found


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError("SMS_TIPS_LOG_LEVEL", "must be DEBUG, INFO, WARNING or ERROR")
    return level


def _log_format(raw: str | None, environment: str) -> str:
    if raw is None:
        return "json" if environment == "production" else "text"
    if raw.lower() not in LOG_FORMATS:
        raise ConfigError("SMS_TIPS_LOG_FORMAT", "must be json or text")
    return raw.lower()


def _metrics_token(raw: str | None) -> Secret | None:
    if raw is None:
        return None
    if not _METRICS_TOKEN.match(raw):
        raise ConfigError(
            "SMS_TIPS_METRICS_TOKEN",
            "must be 32 or more letters, digits or -._~+/ (e.g. openssl rand -hex 32)",
        )
    return Secret(raw)


def _web_workers(get: _Getter, database_url: str, multiproc_dir: str | None) -> int:
    workers = _int("SMS_TIPS_WEB_WORKERS", get, 1, 1, 64)
    if workers > 1 and make_url(database_url).get_backend_name() == "sqlite":
        # Processes meet SQLite's own lock, which they poll for: under load a webhook waits
        # for it up to seconds (one process queues its writers on a lock of its own).
        raise ConfigError("SMS_TIPS_WEB_WORKERS", "must be 1 on SQLite: more need PostgreSQL")
    if workers > 1 and multiproc_dir is None:
        raise ConfigError(
            "SMS_TIPS_WEB_WORKERS",
            f"above 1 needs {MULTIPROC_DIR_VARIABLE}, so that /metrics counts every worker",
        )
    return workers


def _multiproc_dir(raw: str | None, env: Mapping[str, str]) -> str | None:
    if raw is None:
        return None
    if not (env.get(MULTIPROC_DIR_VARIABLE) or "").strip():
        # prometheus_client reads the environment when it is imported, never the .env file.
        raise ConfigError(MULTIPROC_DIR_VARIABLE, "must be set in the environment, not in .env")
    path = Path(raw)
    if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(MULTIPROC_DIR_VARIABLE, f"{raw!r} is not a writable directory")
    return str(path)
