"""Whole enrollment conversations in English and Spanish, over real signed HTTP requests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from content.library import load_library
from content.segments import analyze
from jobs.planner import plan
from sms_service.core.db import transaction
from sms_service.core.models import Caregiver, Child, utcnow
from sms_service.core.settings import Settings
from sms_service.delivery.sendwindow import next_send_time
from sms_service.tips.sync import sync_library
from tests.helpers.live_server import live_server
from tests.helpers.texting import Phone, caregiver, children, consents, outbox

DISCLOSURE_EN = "Msg & data rates may apply. Reply HELP for help, STOP to cancel."
DISCLOSURE_ES = (
    "Pueden aplicar tarifas de mensajes y datos. Si tienes dudas, manda AYUDA. Para cancelar, "
    "manda STOP"
)


@pytest.fixture
def http(app: Starlette) -> Iterator[httpx.Client]:
    """An HTTP client talking to the app under a real uvicorn server on loopback."""
    with live_server(app) as base_url, httpx.Client(base_url=base_url) as client:
        yield client


def local_today(zone: str) -> date:
    return utcnow().astimezone(ZoneInfo(zone)).date()


def months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    while True:
        try:
            return date(year, month + 1, day.day)
        except ValueError:
            day = day.replace(day=day.day - 1)


@pytest.mark.parametrize(
    ("language", "answers", "promise"),
    [
        ("en", ("JOIN", "Maya", "8 months"), "Your first tip comes soon"),
        ("es", ("HOLA", "Maya", "8 meses"), "Tu primer consejo llega pronto"),
    ],
)
def test_the_first_tip_comes_soon_after_the_confirmation_as_it_says(
    http: httpx.Client,
    engine: Engine,
    sessions: sessionmaker[Session],
    settings: Settings,
    language: str,
    answers: tuple[str, ...],
    promise: str,
) -> None:
    with transaction(sessions) as session:
        sync_library(session, load_library())
    phone = Phone(http, "+13105550124")  # Los Angeles
    for answer in answers:
        phone.text(answer)
    confirmation = phone.text("5")  # Sunday mornings
    assert confirmation is not None and promise in confirmation
    person = caregiver(sessions, "+13105550124")
    assert person.enrolled_at is not None and person.language == language
    # The scheduler's next run (every few minutes; at night, when the sending window opens).
    zone = ZoneInfo(person.timezone)
    run = next_send_time(
        (person.enrolled_at + timedelta(minutes=5)).astimezone(zone), person.region, settings
    )
    plan(engine, now=run.astimezone(UTC), settings=settings)
    [tip] = [row for row in outbox(sessions, "+13105550124") if row.kind == "tip"]
    assert tip.due_at == run
    # The first tip is one of the files of the family's language (es-w035-..., say).
    assert "Maya" in tip.body and tip.tip_id is not None and tip.tip_id.startswith(f"{language}-w0")
    assert tip.due_at - person.enrolled_at <= timedelta(minutes=5) or run.time() == (
        settings.quiet_hours.end
    )


def test_english_enrollment(http: httpx.Client, sessions: sessionmaker[Session]) -> None:
    phone = Phone(http, "+13105550123")  # a Los Angeles number
    assert phone.text("JOIN") == (
        "Little Moments: Welcome! We send short, simple ideas for special moments with your "
        "little one, about 1 message a week. What is your child's first name? Reply SKIP to skip."
    )
    assert phone.text("Maya") == (
        "Little Moments: Thanks! When was Maya born? Send a date like 3/14/2025 or an age like "
        "8 months. Expecting? Send DUE and the date, like DUE 6/1."
    )
    menu = phone.text("8 months")
    assert menu is not None and "Reply with a number" in menu and "4 Wednesday evening" in menu
    confirmation = phone.text("4")
    assert confirmation == (
        "Little Moments: You're signed up! Your first tip comes soon, then about 1 message a "
        f"week, every Wednesday evening. {DISCLOSURE_EN}"
    )

    person = caregiver(sessions, "+13105550123")
    assert (person.status, person.language, person.enrollment_keyword) == ("active", "en", "JOIN")
    assert (person.timezone, person.region) == ("America/Los_Angeles", "CA")
    assert (person.send_weekday, person.send_hour) == (2, 18)
    assert person.conversation_step is None and person.enrolled_at is not None
    [child] = children(sessions, "+13105550123")
    assert child.name == "Maya" and not child.is_expected
    assert child.birth_date == months_before(local_today("America/Los_Angeles"), 8)
    [consent] = consents(sessions, "+13105550123")
    assert (consent.kind, consent.source, consent.keyword) == ("opt_in", "enrollment", "JOIN")
    assert consent.text == confirmation
    sent = outbox(sessions, "+13105550123")
    assert [row.kind for row in sent] == ["reply"] * 4
    assert sent[-1].body == confirmation and sent[-1].state == "sent"
    assert all(row.segments == analyze(row.body).segments <= 2 for row in sent)


def test_spanish_enrollment_from_an_unknown_first_text(
    http: httpx.Client, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(http, "+15125550123")  # Austin, Texas
    welcome = phone.text("Buenas tardes, me dieron este número")
    assert welcome == ("Little Moments: Hi! Reply 1 for English. ¡Hola! Responde 2 para español.")
    ask_name = phone.text("2")
    assert ask_name is not None and "primer nombre de tu hijo o hija" in ask_name
    ask_birth = phone.text("omitir")
    assert ask_birth is not None and "fecha de nacimiento de tu bebé" in ask_birth
    menu = phone.text("nace 1/6")
    assert menu is not None and "5 domingo en la mañana" in menu
    confirmation = phone.text("5")
    assert confirmation is not None
    assert confirmation.startswith("Little Moments: ¡Listo, te inscribiste!")
    assert DISCLOSURE_ES in confirmation

    person = caregiver(sessions, "+15125550123")
    assert (person.status, person.language, person.timezone) == ("active", "es", "America/Chicago")
    assert (person.send_weekday, person.send_hour, person.region) == (6, 9, "TX")
    [child] = children(sessions, "+15125550123")
    assert child.name is None and child.is_expected
    today = local_today("America/Chicago")
    assert child.birth_date == date(today.year + (today >= date(today.year, 6, 1)), 6, 1)
    assert [c.kind for c in consents(sessions, "+15125550123")] == ["opt_in"]


def test_spanish_keyword_starts_in_spanish_and_reads_spanish_dates(
    http: httpx.Client, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(http, "+13055550147")
    ask_name = phone.text("Hola")
    assert ask_name is not None and ask_name.startswith("Little Moments: ¡Te damos la bienvenida!")
    phone.text("José")
    first = local_today("America/New_York").replace(day=1)
    when = months_before(first, 5)
    months = "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre"
    month_name = [*months.split(), "diciembre"][when.month - 1]
    assert "domingo" in (phone.text(f"1 de {month_name} de {when.year}") or "")
    confirmation = phone.text("domingo en la tarde") or ""
    assert (
        "cada domingo al final de la tarde" in confirmation
        and "Para cancelar, manda STOP" in confirmation
    )
    person = caregiver(sessions, "+13055550147")
    assert (person.language, person.enrollment_keyword, person.send_hour) == ("es", "HOLA", 18)
    [child] = children(sessions, "+13055550147")
    assert (child.name, child.birth_date) == ("José", when)


def test_keyword_restarts_the_conversation(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    phone.text("JOIN")
    phone.text("Maya")
    restart = phone.text("join")
    assert restart is not None and "What is your child's first name?" in restart
    person = caregiver(sessions, phone.number)
    assert person.conversation_step == "child_name" and "name" not in person.conversation_data
    spanish = phone.text("HOLA")
    assert spanish is not None and "primer nombre" in spanish
    person = caregiver(sessions, phone.number)
    assert (person.language, person.enrollment_keyword) == ("es", "HOLA")
    phone.text("Leo")
    phone.text("2 años")
    phone.text("1")
    assert [c.name for c in children(sessions, phone.number)] == ["Leo"]


def test_wrong_answers_are_asked_again_three_times_then_defaults_are_taken(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    phone.text("JOIN")
    for _ in range(3):
        retry = phone.text("🙂🙂")
        assert retry is not None and "like Maya, or reply SKIP" in retry
    assert "we will skip the name" in (phone.text("🙂🙂") or "")
    for answer in ("soon", "5 years", "due 2099-01-01"):
        assert "3/14/2025" in (phone.text(answer) or "")
    assert "newborn tips" in (phone.text("not sure") or "")
    for _ in range(3):
        assert "reply with a number from 1 to 6" in (phone.text("whenever") or "")
    confirmation = phone.text("any")
    assert confirmation is not None
    assert "We picked every Monday morning (text TIME to change it)" in confirmation
    assert DISCLOSURE_EN in confirmation

    person = caregiver(sessions, phone.number)
    assert (person.status, person.send_weekday, person.send_hour) == ("active", 0, 9)
    [child] = children(sessions, phone.number)
    assert child.name is None and child.birth_date == local_today("America/New_York")
    assert consents(sessions, phone.number)[0].text == confirmation


def test_language_menu_falls_back_to_english(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    assert "Reply 1 for English" in (phone.text("hey") or "")
    for _ in range(3):
        assert "Disculpa" in (phone.text("3") or "")
    assert "We will go on in English" in (phone.text("3") or "")
    assert caregiver(sessions, phone.number).conversation_step == "child_name"


def test_help_during_enrollment_keeps_the_place(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    phone.text("JOIN")
    phone.text("Maya")
    help_text = phone.text("HELP")
    assert help_text == (
        "Little Moments: We send short tips for you and your child, about 1 message a week. "
        "Msg & data rates may apply. Text PAUSE for a break, TIME to change the day, AGE to fix "
        "a date, LANG for Spanish, SUPPORT for support lines, STOP to cancel. "
        "Questions? hello@example.org"
    )
    assert caregiver(sessions, phone.number).conversation_step == "birth_date"
    assert "Reply with a number" in (phone.text("3/14/2025") or "")
    # YES mid-conversation is an answer (a wrong one here), not a second opt-in.
    assert "reply with a number" in (phone.text("YES") or "").lower()
    assert [c.kind for c in consents(sessions, phone.number)] == ["help"]


def test_enrolled_caregiver_commands(client: TestClient, sessions: sessionmaker[Session]) -> None:
    phone = Phone(client)
    for answer in ("JOIN", "Maya", "8 months", "1"):
        phone.text(answer)

    assert "already signed up" in (phone.text("JOIN") or "")
    paused = phone.text("PAUSE 2")
    assert paused is not None and "paused until" in paused
    person = caregiver(sessions, phone.number)
    assert person.status == "paused" and person.paused_until is not None
    weeks = (person.paused_until - utcnow()).days
    assert 13 <= weeks <= 14
    assert phone.text("RESUME") == (
        "Little Moments: Welcome back! Your tips are on again. They come every Monday morning."
    )
    assert caregiver(sessions, phone.number).status == "active"

    assert "Reply with a number" in (phone.text("TIME") or "")
    assert phone.text("6") == "Little Moments: Done! Your tips will now come every Sunday evening."
    person = caregiver(sessions, phone.number)
    assert (person.send_weekday, person.send_hour) == (6, 18)

    assert "Reply 1 for English" in (phone.text("LANG") or "")
    assert phone.text("2") == "Little Moments: ¡Listo! Desde ahora te escribimos en español."
    assert phone.text("IDIOMA 1") == (
        "Little Moments: Great, we will text you in English from now on."
    )

    assert "What is Maya's birth date?" in (phone.text("AGE") or "")
    assert phone.text("1 year") == "Little Moments: Thanks! Tips for Maya will now match that date."
    assert children(sessions, phone.number)[0].birth_date == months_before(
        local_today("America/New_York"), 12
    )

    assert "another child" in (phone.text("ADD") or "")
    assert "When was Leo born?" in (phone.text("Leo") or "")
    assert phone.text("due in 3 months") == "Little Moments: Added! We will send tips for Leo too."
    maya, leo = children(sessions, phone.number)
    assert (maya.name, leo.name, leo.is_expected) == ("Maya", "Leo", True)
    assert caregiver(sessions, phone.number).status == "active"

    # Commands end a question under way: PAUSE during TIME pauses, and the menu is dropped.
    phone.text("TIME")
    phone.text("PAUSE")
    person = caregiver(sessions, phone.number)
    assert person.status == "paused" and person.conversation_step is None
    assert (person.send_weekday, person.send_hour) == (6, 18)


def test_spanish_commands(client: TestClient, sessions: sessionmaker[Session]) -> None:
    phone = Phone(client)
    for answer in ("HOLA", "Ana", "3 meses", "3"):
        phone.text(answer)
    assert "pausa hasta el" in (phone.text("PAUSA") or "")
    assert "miércoles en la mañana" in (phone.text("SEGUIR") or "")
    assert "Responde del 1 al 6" in (phone.text("HORA") or "")
    assert "cada lunes al final de la tarde" in (phone.text("2") or "")
    assert "fecha de nacimiento de Ana" in (phone.text("EDAD") or "")
    assert "Ana van a seguir esa fecha" in (phone.text("4 meses") or "")
    assert "agregar a otro niño o niña" in (phone.text("AGREGAR") or "")
    phone.text("omitir")
    assert "tu bebé" in (phone.text("nace 1/6") or "")
    assert len(children(sessions, phone.number)) == 2


def test_other_texts_are_stored_and_acknowledged(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    for answer in ("JOIN", "Maya", "8 months", "1"):
        phone.text(answer)
    assert phone.text("She laughed at the bath song today!") == (
        "Little Moments: Thank you for writing! Our team reads every message, but not right "
        "away. In an emergency, call 911, or call or text 988. Reply HELP for help, STOP to "
        "cancel."
    )
    assert phone.text("And again at bedtime") is None  # at most one thank-you a day
    assert caregiver(sessions, phone.number).last_ack_at is not None


def test_stop_then_nothing_until_start(client: TestClient, sessions: sessionmaker[Session]) -> None:
    phone = Phone(client)
    for answer in ("JOIN", "Maya", "8 months", "1"):
        phone.text(answer)
    assert phone.text("stop texting me") == (
        "Little Moments: You're unsubscribed and will get no more messages. "
        "Text START anytime to rejoin."
    )
    assert caregiver(sessions, phone.number).status == "opted_out"
    for anything in ("hello?", "PAUSE", "TIME", "STOP"):
        assert phone.text(anything) is None
    assert phone.text("START") == (
        f"Little Moments: Welcome back! We will send about 1 message a week again. {DISCLOSURE_EN}"
    )
    assert caregiver(sessions, phone.number).status == "active"
    kinds = [(c.kind, c.source, c.keyword) for c in consents(sessions, phone.number)]
    assert kinds == [
        ("opt_in", "enrollment", "JOIN"),
        ("opt_out", "keyword", "STOP TEXTING ME"),
        ("opt_out", "keyword", "STOP"),
        ("opt_in", "keyword", "START"),
    ]


def test_program_keyword_after_opting_out_is_an_opt_in(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    assert phone.text("PARAR") == (  # never enrolled: still confirmed, in Spanish
        "Little Moments: Listo, ya no te enviaremos mensajes. Manda HOLA o START "
        "cuando quieras volver."
    )
    person = caregiver(sessions, phone.number)
    assert (person.status, person.language) == ("opted_out", "es")
    assert "primer nombre" in (phone.text("HOLA") or "")
    assert caregiver(sessions, phone.number).status == "enrolling"
    assert [(c.kind, c.keyword) for c in consents(sessions, phone.number)] == [
        ("opt_out", "PARAR"),
        ("opt_in", "HOLA"),
    ]


def test_messages_are_recorded_in_and_out(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    bodies = [phone.text(answer) for answer in ("JOIN", "Maya", "8 months", "1")]
    sent = outbox(sessions, phone.number)
    assert [row.body for row in sent] == bodies
    assert all(row.dedupe_key.startswith("reply:SM") for row in sent)
    assert all(isinstance(row.due_at, datetime) and row.sent_at is not None for row in sent)


def test_language_can_be_switched_mid_enrollment(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    phone.text("JOIN")
    assert "primer nombre de tu hijo o hija" in (phone.text("IDIOMA") or "")
    assert "What is your child's first name?" in (phone.text("LANG 1") or "")
    # Command words are not names.
    assert "like Maya, or reply SKIP" in (phone.text("Time") or "")
    phone.text("Maya")
    again = phone.text("idioma")  # the birth question again, in Spanish, keeping the name
    assert again is not None and "fecha de nacimiento de Maya" in again
    person = caregiver(sessions, phone.number)
    assert (person.language, person.conversation_step) == ("es", "birth_date")


def test_a_family_whose_children_aged_out_can_enroll_again(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    for answer in ("JOIN", "Maya", "2 years", "1"):
        phone.text(answer)
    person = caregiver(sessions, phone.number)
    with transaction(sessions) as session:
        session.execute(update(Child).values(status="completed"))
        session.execute(update(Caregiver).values(status="completed"))
    assert "Thank you for writing" in (phone.text("We miss the tips!") or "")
    for answer in ("JOIN", "Leo", "due in 2 months", "3"):
        reply = phone.text(answer)
    assert reply is not None and "every Wednesday morning" in reply
    after = caregiver(sessions, phone.number)
    assert (after.id, after.status) == (person.id, "active")
    assert [(c.name, c.status) for c in children(sessions, phone.number)] == [
        ("Maya", "completed"),
        ("Leo", "active"),
    ]


def test_an_unknown_step_never_unenrolls(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    for answer in ("JOIN", "Maya", "8 months", "1"):
        phone.text(answer)
    with transaction(sessions) as session:
        session.execute(update(Caregiver).values(conversation_step="no-such-step"))
    assert "already signed up" in (phone.text("hello") or "")
    person = caregiver(sessions, phone.number)
    assert (person.status, person.conversation_step) == ("active", None)


def test_yes_from_a_subscribed_parent_is_a_reply_not_an_opt_in(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    for answer in ("JOIN", "Maya", "8 months", "1"):
        phone.text(answer)
    assert "Thank you for writing" in (phone.text("Yes!") or "")
    phone.text("PAUSE")
    phone.text("Si")  # a paused parent answering "yes" to something stays paused
    assert caregiver(sessions, phone.number).status == "paused"
    assert [c.kind for c in consents(sessions, phone.number)] == ["opt_in"]

    phone.text("STOP")
    welcome_back = phone.text("YES")
    assert welcome_back is not None and welcome_back.startswith("Little Moments: Welcome back")
    assert caregiver(sessions, phone.number).status == "active"
    assert [c.kind for c in consents(sessions, phone.number)] == ["opt_in", "opt_out", "opt_in"]


def test_yes_tagged_start_by_twilio_does_not_end_a_pause(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    for answer in ("JOIN", "Maya", "8 months", "1"):
        phone.text(answer)
    phone.text("PAUSE")
    # With Advanced Opt-Out on, Twilio marks "Yes!" as an opt-in keyword.
    phone.text("Yes!", OptOutType="START")
    person = caregiver(sessions, phone.number)
    assert (person.status, person.paused_until is not None) == ("paused", True)
    assert [c.kind for c in consents(sessions, phone.number)] == ["opt_in"]
