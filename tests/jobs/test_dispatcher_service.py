"""The dispatcher as it runs for real: inside `serve` (a background service) and as a command."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from jobs.dispatcher import Dispatcher, DispatcherService
from sms_service.core.db import build_engine, build_sessionmaker, transaction
from sms_service.core.models import utcnow
from sms_service.delivery.transports import ConsoleTransport, TwilioTransport
from sms_service.web.app import create_app
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.settings import make_settings, service_environ
from tests.jobs.outbox import add_message, add_recipient, outbox
from tests.reliability.processes import free_port, sms_tips

ROOT = Path(__file__).resolve().parents[2]


def midday_zone() -> str:
    """A fixed-offset zone where it is about noon right now, so the send window is open."""
    offset = 12 - datetime.now(UTC).hour  # hours east of UTC
    offset = max(-12, min(14, offset))
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX signs are inverted


def test_serve_runs_the_dispatcher_beside_the_web_app(
    database_url: str, sessions: sessionmaker[Session], fake_twilio: FakeTwilio
) -> None:
    settings = make_settings(database_url, SMS_TIPS_SEND_RATE="100")
    with transaction(sessions) as session:
        person = add_recipient(session, timezone=midday_zone(), region=None)
        message = add_message(session, person, due_at=utcnow() - timedelta(seconds=1))
    service = DispatcherService(
        settings, transport=TwilioTransport(settings, api_base_url=fake_twilio.url)
    )

    with TestClient(create_app(settings, background=[service])):
        deadline = time.monotonic() + 10
        while not fake_twilio.messages and time.monotonic() < deadline:
            time.sleep(0.05)

    # Stopping the app stopped the service after it recorded the text in flight.
    row = outbox(sessions)[message.id]
    assert [m["sid"] for m in fake_twilio.sent_to(person.phone)] == [row.provider_sid]
    assert row.state == "sent"


@pytest.mark.parametrize("command", ["serve", "dispatcher"])
def test_the_commands_send_through_twilio_on_their_own_event_loop(
    command: str,
    database_url: str,
    sessions: sessionmaker[Session],
    fake_twilio: FakeTwilio,
    tmp_path: Path,
) -> None:
    # The real processes, not a TestClient: `serve` runs the dispatcher on uvicorn's loop
    # (uvloop), where the Twilio transport once failed every send and nothing went out.
    with transaction(sessions) as session:
        person = add_recipient(session, timezone=midday_zone(), region=None)
        message = add_message(session, person, due_at=utcnow() - timedelta(seconds=1))
    environ = service_environ(
        database_url, TWILIO_API_BASE_URL=fake_twilio.url, SMS_TIPS_SEND_RATE="10"
    )
    args = ("serve", "--port", str(free_port())) if command == "serve" else ("dispatcher",)
    log = tmp_path / "process.log"

    with sms_tips(*args, environ=environ, cwd=tmp_path, log=log) as process:
        deadline = time.monotonic() + 30
        while outbox(sessions)[message.id].state != "sent":
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)

    row = outbox(sessions)[message.id]
    assert [m["sid"] for m in fake_twilio.sent_to(person.phone)] == [row.provider_sid]
    assert "Traceback" not in log.read_text()


def test_dispatcher_command_sends_what_is_due_through_the_console(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        person = add_recipient(session, timezone=midday_zone(), region=None)
        message = add_message(
            session, person, body="Little Moments: hum to your baby.", due_at=utcnow()
        )
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TWILIO_", "SMS_TIPS_", "DATABASE_URL"))
    }
    environ.update(DATABASE_URL=database_url, SMS_TIPS_SEND_RATE="10")

    result = subprocess.run(
        [sys.executable, "-m", "sms_service", "dispatcher", "--once"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "Little Moments: hum to your baby." in result.stdout
    assert person.phone not in result.stdout + result.stderr
    assert "1 sent" in result.stdout
    row = outbox(sessions)[message.id]
    assert row.state == "sent"
    assert (row.provider_sid or "").startswith("CONSOLE-")


def test_a_database_outage_is_logged_and_the_dispatcher_keeps_running(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = f"sqlite:///{tmp_path}/no/such/dir/db.sqlite"
    settings = make_settings(missing)
    engine = build_engine(missing)
    dispatcher = Dispatcher(
        sessions=build_sessionmaker(engine),
        transport=ConsoleTransport(),
        settings=settings,
        poll_seconds=0.05,
    )

    async def run_briefly() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.5, stop.set)
        await dispatcher.run(stop=stop)

    asyncio.run(run_briefly())
    engine.dispose()

    failures = [r for r in caplog.records if r.message == "claiming due texts failed"]
    assert len(failures) >= 2  # it kept trying, and stopped when asked
