"""What a family whose tips ended, or whose number stopped working, hears when it texts PAUSE or
RESUME: a kind explanation, and no change that would start texts they were told had ended."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from jobs.planner import plan
from sms_service.core.db import transaction
from sms_service.core.models import Caregiver, Child, utcnow
from sms_service.core.settings import Settings
from tests.helpers.texting import Phone, caregiver


def enroll(phone: Phone) -> None:
    for answer in ("JOIN", "Maya", "8 months", "1"):
        phone.text(answer)


def set_status(sessions: sessionmaker[Session], number: str, status: str) -> None:
    with transaction(sessions) as session:
        session.execute(update(Caregiver).where(Caregiver.phone == number).values(status=status))
        if status == "completed":
            session.execute(update(Child).values(status="completed"))


@pytest.mark.parametrize(
    ("status", "words"),
    [("completed", "tips have ended"), ("undeliverable", "did not go through")],
)
@pytest.mark.parametrize("command", ["PAUSE", "PAUSE 2", "RESUME"])
def test_pause_and_resume_explain_instead_of_changing_an_ended_family(
    client: TestClient,
    sessions: sessionmaker[Session],
    engine: Engine,
    settings: Settings,
    status: str,
    words: str,
    command: str,
) -> None:
    phone = Phone(client)
    enroll(phone)
    set_status(sessions, phone.number, status)

    reply = phone.text(command) or ""

    assert words in reply
    person = caregiver(sessions, phone.number)
    assert (person.status, person.paused_until) == (status, None)
    # Weeks later the planner finds no pause to end: the family stays as it was.
    plan(engine, now=utcnow() + timedelta(weeks=5), settings=settings)
    assert caregiver(sessions, phone.number).status == status


def test_spanish_families_get_the_explanation_in_spanish(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    for answer in ("HOLA", "Sofía", "8 meses", "1"):
        phone.text(answer)
    set_status(sessions, phone.number, "completed")
    assert "terminaron" in (phone.text("PAUSA") or "")
    with sessions() as session:
        assert session.scalars(select(Caregiver.status)).one() == "completed"
