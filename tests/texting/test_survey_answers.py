"""A family answers a survey question by text: the next text in the window is the answer,
commands still win, a misfit is asked again once, and digits and YES go to their owner."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.db import transaction
from sms_service.core.models import Caregiver, InboundMessage, utcnow
from sms_service.core.settings import Settings
from sms_service.texting.inbound import IncomingText, handle_inbound
from sms_service.web.app import create_app
from tests.helpers.surveys import answers, ask, run_state
from tests.helpers.texting import Phone, caregiver, new_sid


def enroll(phone: Phone, *, spanish: bool = False) -> None:
    words = ("HOLA", "Maya", "8 meses", "1") if spanish else ("JOIN", "Maya", "8 months", "1")
    for answer in words:
        phone.text(answer)


def handled(sessions: sessionmaker[Session], number: str) -> list[tuple[str | None, str | None]]:
    """(handled_as, inbox_state) of the phone's texts after enrolling, in order."""
    with sessions() as session:
        rows = session.execute(
            select(InboundMessage.handled_as, InboundMessage.inbox_state)
            .where(InboundMessage.from_number == number)
            .order_by(InboundMessage.id)
        )
        return [(how, inbox) for how, inbox in rows][4:]


def test_a_family_answers_three_questions_and_is_thanked(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    enroll(phone)
    run = ask(sessions, phone.number)

    second = phone.text("3") or ""
    third = phone.text("5 ") or ""
    last = phone.text("Yes!") or ""

    assert "how often did you feel joy with Maya?" in second
    assert "calm moment just for you" in third
    assert last.startswith("Little Moments: Thank you for your answers!")
    assert answers(sessions, run) == [("shared_days", 3), ("joy", 5), ("own_moment", 1)]
    assert run_state(sessions, run)[0] == "done"
    # Answers are not waiting for staff in the inbox.
    assert handled(sessions, phone.number) == [("survey_answer", None)] * 3
    # After the survey, a text is the family's own words again.
    assert "Our team reads every message" in (phone.text("3") or "")


def test_an_answer_that_does_not_fit_is_asked_again_once_then_goes_to_a_person(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    enroll(phone)
    run = ask(sessions, phone.number)

    again = phone.text("most days!") or ""
    after = phone.text("8") or ""

    assert again.startswith("Little Moments: Thanks for writing! Any number from 0 to 7 works.")
    assert "Our team reads every message" in after
    assert answers(sessions, run) == []
    assert run_state(sessions, run)[0] == "closed"
    assert handled(sessions, phone.number) == [("survey_reask", None), ("reply", "unread")]


def test_a_reasked_question_still_takes_its_answer(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    enroll(phone)
    run = ask(sessions, phone.number)
    phone.text("a lot")
    phone.text("4 days")
    assert answers(sessions, run) == [("shared_days", 4)]
    assert run_state(sessions, run)[0] == "open"  # on to the second question


@pytest.mark.parametrize(
    ("state", "sent_ago"),
    [("pending", timedelta(0)), ("sent", timedelta(hours=49))],
    ids=["question-not-sent-yet", "window-over"],
)
def test_a_text_outside_the_window_is_the_familys_own_words(
    client: TestClient,
    sessions: sessionmaker[Session],
    state: str,
    sent_ago: timedelta,
) -> None:
    phone = Phone(client)
    enroll(phone)
    run = ask(sessions, phone.number, state=state, sent_ago=sent_ago)
    assert "Our team reads every message" in (phone.text("3") or "")
    assert answers(sessions, run) == []
    assert run_state(sessions, run)[0] == ("closed" if state == "sent" else "open")


def test_the_window_is_a_setting(
    settings: Settings, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    longer = replace(settings, survey_answer_window_hours=72)
    with TestClient(create_app(longer, engine=engine)) as client:
        phone = Phone(client)
        enroll(phone)
        run = ask(sessions, phone.number, sent_ago=timedelta(hours=49))
        phone.text("2")
    assert answers(sessions, run) == [("shared_days", 2)]


def test_stop_wins_over_an_answer_and_nothing_more_is_asked(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    enroll(phone)
    run = ask(sessions, phone.number)
    assert "unsubscribed" in (phone.text("STOP") or "")
    assert phone.text("3") is None  # an opted-out family's text is read by a person, unanswered
    assert caregiver(sessions, phone.number).status == "opted_out"
    assert answers(sessions, run) == []
    assert run_state(sessions, run)[0] == "closed"  # the STOP ended the survey at once


def test_a_question_asked_before_a_stop_does_not_take_a_digit_after_start(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    enroll(phone)
    run = ask(sessions, phone.number)
    phone.text("STOP")
    phone.text("START")
    phone.text("3")  # within the old question's window, but the family left in between
    assert answers(sessions, run) == []
    assert run_state(sessions, run)[0] == "closed"


def test_pause_is_a_command_and_a_paused_family_may_still_answer(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    enroll(phone)
    run = ask(sessions, phone.number)
    assert "paused until" in (phone.text("PAUSE") or "")
    phone.text("6")
    assert answers(sessions, run) == [("shared_days", 6)]


@pytest.mark.parametrize("opt_out_type", [None, "START"])
def test_yes_answers_a_yes_no_question_and_is_no_opt_in(
    client: TestClient, sessions: sessionmaker[Session], opt_out_type: str | None
) -> None:
    phone = Phone(client)
    enroll(phone)
    run = ask(sessions, phone.number, position=3)
    extra = {"OptOutType": opt_out_type} if opt_out_type else {}
    reply = phone.text("YES", **extra) or ""
    assert "Thank you for your answers" in reply
    assert answers(sessions, run) == [("own_moment", 1)]


def test_yes_without_a_question_stays_the_familys_own_words(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    enroll(phone)
    assert "Our team reads every message" in (phone.text("YES") or "")


def test_a_digit_mid_time_change_sets_the_schedule_then_the_next_answers_the_survey(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    enroll(phone)
    run = ask(sessions, phone.number)
    phone.text("TIME")
    assert "Wednesday morning" in (phone.text("3") or "")  # the TIME question owns the digit
    assert answers(sessions, run) == []
    phone.text("3")
    assert answers(sessions, run) == [("shared_days", 3)]
    assert caregiver(sessions, phone.number).send_weekday == 2


def test_a_spanish_family_answers_in_spanish(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client, "+12125550124")
    enroll(phone, spanish=True)
    run = ask(sessions, phone.number, position=3)
    assert "¿tuviste un momento de calma" in (phone.text("ya veremos") or "")
    assert "¡Gracias por tus respuestas!" in (phone.text("Sí") or "")
    assert answers(sessions, run) == [("own_moment", 1)]


def _text_at_once(
    sessions: sessionmaker[Session], settings: Settings, texts: list[tuple[str, str]]
) -> list[BaseException]:
    """Handle `texts` (number, body) in threads started together, one transaction each."""
    start, errors = threading.Barrier(len(texts)), []

    def one(number: str, body: str) -> None:
        try:
            start.wait()
            with transaction(sessions) as session:
                incoming = IncomingText(message_sid=new_sid(), from_number=number, body=body)
                handle_inbound(incoming, session=session, settings=settings, now=utcnow())
        except BaseException as error:  # the test reports it (a thread cannot raise to it)
            errors.append(error)

    threads = [threading.Thread(target=one, args=pair) for pair in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_two_families_answering_at_once_each_get_their_own_answer(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    first, second = Phone(client, "+12125550131"), Phone(client, "+12125550132")
    enroll(first)
    enroll(second)
    runs = ask(sessions, first.number), ask(sessions, second.number, occasion="other")

    assert _text_at_once(sessions, settings, [(first.number, "2"), (second.number, "7")]) == []

    assert answers(sessions, runs[0]) == [("shared_days", 2)]
    assert answers(sessions, runs[1]) == [("shared_days", 7)]


def test_two_texts_at_once_from_one_family_answer_two_questions_in_turn(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    phone = Phone(client)
    enroll(phone)
    run = ask(sessions, phone.number)

    assert _text_at_once(sessions, settings, [(phone.number, "4"), (phone.number, "4")]) == []

    # One text answered the first question, the other the second: never both the first.
    assert answers(sessions, run) == [("shared_days", 4), ("joy", 4)]
    with sessions() as session:
        person = session.scalars(select(Caregiver).where(Caregiver.phone == phone.number)).one()
        assert person.status == "active"
