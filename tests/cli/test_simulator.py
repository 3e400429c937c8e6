"""`sms-tips simulate`: a terminal chat through the real webhook, showing tips as they are sent."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from sms_service.cli import main
from sms_service.cli.simulate import chat
from sms_service.cli.simulator import Simulator
from sms_service.core.db import transaction
from sms_service.core.models import OutboundMessage, utcnow
from sms_service.core.settings import Settings
from tests.helpers.texting import caregiver, counts

PHONE = "+13105550123"


def _planned(sessions: sessionmaker[Session], phone: str, name: str) -> int:
    """A system text waiting in the outbox for `phone`; its id."""
    person = caregiver(sessions, phone)
    with transaction(sessions) as session:
        row = OutboundMessage(
            dedupe_key=f"system:{name}:{person.id}:0",
            kind="system",
            caregiver_id=person.id,
            to_number=phone,
            body=f"Little Moments: {name}",
            due_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return row.id


def _mark_sent(sessions: sessionmaker[Session], row_id: int) -> None:
    with transaction(sessions) as session:
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == row_id)
            .values(state="sent", sent_at=utcnow(), provider_sid=f"CONSOLE-{row_id}")
        )


@pytest.fixture
def simulator(settings: Settings, engine: Engine) -> Iterator[Simulator]:
    with Simulator(settings, engine, PHONE) as simulator:
        yield simulator


def test_a_signed_conversation_through_the_webhook(
    simulator: Simulator, sessions: sessionmaker[Session]
) -> None:
    assert simulator.settings.twilio_enabled  # so each simulated text must carry a signature
    assert simulator.send("JOIN")[0].startswith("Little Moments: Welcome!")
    assert "When was Maya born?" in simulator.send("Maya")[0]
    assert "Reply with a number" in simulator.send("8 months")[0]
    assert "every Monday evening" in simulator.send("2")[0]
    assert caregiver(sessions, PHONE).status == "active"
    assert simulator.send("thanks") != [] and simulator.send("again") == []


def test_local_mode_without_twilio(
    database_url: str, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with Simulator(Settings(database_url=database_url), engine, PHONE) as simulator:
        assert "Reply 1 for English" in simulator.send("hello")[0]
    assert counts(sessions)["inbound_message"] == 1


def test_sent_tips_show_up_once(simulator: Simulator, sessions: sessionmaker[Session]) -> None:
    simulator.send("JOIN")
    tip = _planned(sessions, PHONE, "a tip")
    assert simulator.new_messages() == []  # still pending: not on the phone yet
    _mark_sent(sessions, tip)
    assert simulator.new_messages() == ["Little Moments: a tip"]
    assert simulator.new_messages() == []


def test_texts_sent_before_the_chat_or_to_others_are_not_shown(
    settings: Settings, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with (
        Simulator(settings, engine, PHONE) as first,
        Simulator(settings, engine, "+12125550123") as other,
    ):
        first.send("JOIN")
        other.send("JOIN")
        _mark_sent(sessions, _planned(sessions, PHONE, "old news"))
    _mark_sent(sessions, _planned(sessions, "+12125550123", "not yours"))
    with Simulator(settings, engine, PHONE) as later:
        assert later.new_messages() == []


def test_chat_prints_replies_and_tips_sent_meanwhile(
    simulator: Simulator, sessions: sessionmaker[Session]
) -> None:
    printed: list[str] = []

    def lines() -> Iterator[str]:
        yield "JOIN\n"
        _mark_sent(sessions, _planned(sessions, PHONE, "your first tip"))
        yield "Maya\n"

    chat(simulator, lines(), printed.append, poll_seconds=60, echo=True)
    assert printed[0] == "> JOIN"
    assert printed[1].startswith("< Little Moments: Welcome!")
    assert printed[2] == "> Maya"
    assert "When was Maya born?" in printed[3]
    assert printed[4:] == ["< Little Moments: your first tip"]


def test_the_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'chat.db'}")
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL", "SMS_TIPS_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("HOLA\nAna\n"))
    assert main(["simulate", "--phone", "+1 (512) 555-0123", "--poll", "30"]) == 0
    out = capsys.readouterr().out
    assert "Texting Little Moments as +15125550123 (local mode)" in out
    assert "> HOLA\n< Little Moments: ¡Te damos la bienvenida!" in out
    assert "> Ana\n< Little Moments: ¡Gracias! Ahora manda la fecha de nacimiento de Ana" in out


def test_the_command_refuses_a_bad_number(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--phone", "not a phone"]) == 1
    assert "is not a phone number" in capsys.readouterr().err
