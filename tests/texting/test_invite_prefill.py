"""An invitation row's child name and birth or due date are used when that parent opts in:
the conversation confirms the date in one short question instead of asking everything again."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.audit import Actor
from sms_service.core.db import transaction
from sms_service.core.models import Invitation, utcnow
from sms_service.core.settings import Settings
from sms_service.texting.invites import import_invites
from tests.helpers.texting import Phone, caregiver, children

ADMIN = Actor(name="ada@example.org", role="admin")
MESES = "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"


def _today() -> date:
    return utcnow().astimezone(ZoneInfo("America/New_York")).date()  # 212 numbers' zone


def _import(sessions: sessionmaker[Session], settings: Settings, csv: str) -> None:
    with transaction(sessions) as session:
        import_invites(session, text=csv, settings=settings, actor=ADMIN, now=utcnow())


def test_an_invited_english_parent_confirms_the_date_with_yes(
    sessions: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    born = _today() - timedelta(days=60)
    _import(
        sessions, settings, f"phone,language,child name,birth date\n2125550151,en,Maya,{born}\n"
    )
    parent = Phone(client, "+12125550151")
    question = parent.text("JOIN") or ""
    assert question.startswith("Little Moments: Welcome! We send short, simple ideas")
    assert f"We have Maya's birth date as {born:%B} {born.day}. Reply YES if that is right" in (
        question
    )
    assert "first name" not in question  # the name is not asked again
    assert "When would you like your tips?" in (parent.text("yes!") or "")
    assert "Your first tip comes soon" in (parent.text("1") or "")
    assert caregiver(sessions, parent.number).status == "active"
    [child] = children(sessions, parent.number)
    assert (child.name, child.birth_date, child.is_expected) == ("Maya", born, False)


def test_an_invited_spanish_parent_corrects_the_due_date(
    sessions: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    due, real = _today() + timedelta(days=40), _today() + timedelta(days=47)
    _import(
        sessions,
        settings,
        f"telefono,idioma,nombre,birth date\n2125550152,es,José,{due.day}/{due.month}/{due.year}\n",
    )
    parent = Phone(client, "+12125550152")
    question = parent.text("HOLA") or ""
    assert question.startswith("Little Moments: ¡Te damos la bienvenida!")
    month = MESES.split()[due.month - 1]
    assert f"Tenemos el {due.day} de {month} como fecha de parto de José." in question
    assert "Responde SI si es correcto" in question
    # A date in the answer wins over the invitation's.
    answer = parent.text(f"NACE {real.day}/{real.month}/{real.year}") or ""
    assert "Responde del 1 al 6" in answer
    assert "Tu primer consejo llega pronto" in (parent.text("3") or "")
    [child] = children(sessions, parent.number)
    assert (child.name, child.birth_date, child.is_expected) == ("José", real, True)


def test_only_what_the_invitation_lacks_is_asked(
    sessions: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    born = _today() - timedelta(days=10)
    _import(
        sessions,
        settings,
        "phone,language,child name,birth date\n"
        "2125550153,en,Leo,\n"  # a name, no date
        f"2125550154,es,,{born.day}/{born.month}/{born.year}\n",  # a date, no name
    )
    named = Phone(client, "+12125550153")
    question = named.text("JOIN") or ""
    assert "Welcome!" in question and "When was Leo born?" in question
    named.text("2 months")
    assert "Your first tip comes soon" in (named.text("1") or "")
    assert [c.name for c in children(sessions, named.number)] == ["Leo"]

    dated = Phone(client, "+12125550154")
    assert "Responde 2 para español" in (dated.text("START") or "")  # START names no language
    assert "primer nombre" in (dated.text("2") or "")
    month = MESES.split()[born.month - 1]
    confirm = dated.text("Sofía") or ""
    assert confirm.startswith("Little Moments: ¡Gracias! Tenemos el")
    assert f"{born.day} de {month} como fecha de nacimiento de Sofía" in confirm
    assert "Responde del 1 al 6" in (dated.text("Sí") or "")
    assert "Tu primer consejo llega pronto" in (dated.text("2") or "")
    [child] = children(sessions, dated.number)
    assert (child.name, child.birth_date, child.is_expected) == ("Sofía", born, False)


def test_a_date_no_longer_served_is_asked_again(
    sessions: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    _import(
        sessions,
        settings,
        f"phone,language,child name,birth date\n2125550155,en,Ava,{_today()}\n",
    )
    with transaction(sessions) as session:  # the parent answers three years later
        session.execute(update(Invitation).values(birth_date=_today() - timedelta(days=1100)))
    question = Phone(client, "+12125550155").text("JOIN") or ""
    assert "When was Ava born?" in question and "We have" not in question
