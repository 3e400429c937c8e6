"""POST /sms/inbound: signatures, idempotency, compliance keywords and bad input."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.db import transaction
from sms_service.core.models import InboundMessage, OutboundMessage, utcnow
from sms_service.core.settings import Settings
from sms_service.texting.inbound import Handled, IncomingText, handle_inbound
from sms_service.texting.keywords import Kind, compliance_words
from sms_service.web.app import create_app
from sms_service.web.context import AppContext
from sms_service.web.sms_inbound import receive
from tests.helpers.locks import wait_until_blocked
from tests.helpers.settings import TEST_AUTH_TOKEN, TEST_PUBLIC_BASE_URL
from tests.helpers.texting import (
    INBOUND_URL,
    NOTHING,
    Phone,
    caregiver,
    consents,
    counts,
    new_sid,
    outbox,
)
from tests.helpers.twilio_signing import twilio_signature

WELCOME = "Little Moments: Hi! Reply 1 for English. ¡Hola! Responde 2 para español."


def enroll(phone: Phone) -> None:
    for answer in ("JOIN", "Maya", "8 months", "1"):
        phone.text(answer)


@pytest.mark.parametrize(
    "forge",
    ["missing", "wrong token", "tampered body", "other url", "garbage"],
)
def test_forged_or_missing_signatures_get_403_and_write_nothing(
    client: TestClient, sessions: sessionmaker[Session], forge: str
) -> None:
    phone = Phone(client)
    fields = phone.form("JOIN")
    signature = {
        "missing": "",
        "wrong token": twilio_signature(INBOUND_URL, fields, "0" * 32),
        "tampered body": twilio_signature(INBOUND_URL, {**fields, "Body": "STOP"}, TEST_AUTH_TOKEN),
        "other url": twilio_signature("https://evil.example/sms/inbound", fields, TEST_AUTH_TOKEN),
        "garbage": "not-a-signature",
    }[forge]
    response = phone.post(fields, signature=signature)
    assert response.status_code == 403
    assert counts(sessions) == NOTHING


def test_signature_is_checked_against_the_public_url_not_the_proxy_host(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    # The TestClient talks to http://testserver; Twilio signed https://tips.example.test.
    assert TEST_PUBLIC_BASE_URL.startswith("https://")
    assert Phone(client).text("JOIN") is not None
    assert counts(sessions)["inbound_message"] == 1


def test_local_mode_accepts_unsigned_requests(
    database_url: str, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    local = Settings(database_url=database_url)
    assert not local.twilio_enabled
    with TestClient(create_app(local, engine=engine)) as client:
        assert Phone(client, signed=False).text("JOIN") is not None
    assert counts(sessions)["caregiver"] == 1


def test_a_repeated_message_sid_is_answered_once(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    phone.text("JOIN")
    fields = phone.form("Maya")
    first = phone.post(fields)
    assert "When was Maya born?" in first.text
    before = counts(sessions)
    again = phone.post(fields)
    assert again.status_code == 200 and "<Message>" not in again.text
    assert counts(sessions) == before
    assert caregiver(sessions, phone.number).conversation_step == "birth_date"


def _race(
    sessions: sessionmaker[Session],
    settings: Settings,
    engine: Engine,
    first: IncomingText,
    second: IncomingText,
) -> tuple[Handled, list[Handled]]:
    """Handle `first` in an open transaction while `second` arrives; commit once it waits."""
    results: list[Handled] = []
    context = AppContext(settings=settings, sessions=sessions)
    with transaction(sessions) as session:
        outcome = handle_inbound(first, session=session, settings=settings, now=utcnow())
        worker = threading.Thread(
            target=lambda: results.append(
                asyncio.run(receive(second, context=context, now=utcnow()))
            )
        )
        worker.start()
        wait_until_blocked(engine, worker)
    worker.join(timeout=30)
    return outcome, results


def test_concurrent_duplicates_act_once(
    sessions: sessionmaker[Session], settings: Settings, engine: Engine
) -> None:
    join = IncomingText(message_sid=new_sid(), from_number="+12125550123", body="JOIN")
    outcome, results = _race(sessions, settings, engine, join, join)
    assert outcome.handled_as == "keyword" and outcome.reply is not None
    assert [result.handled_as for result in results] == ["duplicate"]
    assert counts(sessions) == {
        **NOTHING,
        "caregiver": 1,
        "inbound_message": 1,
        "outbound_message": 1,
    }


def test_concurrent_first_texts_from_one_number_make_one_caregiver(
    sessions: sessionmaker[Session], settings: Settings, engine: Engine
) -> None:
    join = IncomingText(message_sid=new_sid(), from_number="+12125550123", body="JOIN")
    name = IncomingText(message_sid=new_sid(), from_number="+12125550123", body="Maya")
    outcome, results = _race(sessions, settings, engine, join, name)
    assert outcome.handled_as == "keyword"
    assert [result.handled_as for result in results] == ["answer"]
    assert counts(sessions)["caregiver"] == 1
    assert caregiver(sessions, "+12125550123").conversation_data["name"] == "Maya"


@pytest.mark.parametrize("kind", [Kind.OPT_OUT, Kind.OPT_IN, Kind.HELP])
def test_every_compliance_word_from_a_new_number(
    client: TestClient, sessions: sessionmaker[Session], kind: Kind
) -> None:
    for index, word in enumerate(compliance_words()[kind]):
        phone = Phone(client, f"+1212555{index:04d}")
        reply = phone.text(f"  {word.lower()} ")
        person = caregiver(sessions, phone.number)
        [event] = consents(sessions, phone.number)
        assert (event.kind, event.source, event.keyword) == (kind.value, "keyword", word)
        if kind is Kind.OPT_OUT:
            assert person.status == "opted_out" and person.opted_out_at is not None
            assert reply is not None and "START" in reply and "Little Moments" in reply
        elif kind is Kind.HELP:
            assert reply is not None and ("Msg & data rates" in reply or "tarifas" in reply)
            assert "hello@example.org" in reply and "STOP" in reply
        else:
            # The bilingual welcome, Spanish first after a Spanish word such as SI.
            assert reply is not None and person.status == "enrolling"
            assert "Reply 1 for English" in reply and "Responde 2 para español" in reply


def test_stop_cancels_pending_messages(client: TestClient, sessions: sessionmaker[Session]) -> None:
    phone = Phone(client)
    enroll(phone)
    person = caregiver(sessions, phone.number)
    with transaction(sessions) as session:
        session.add(
            OutboundMessage(
                dedupe_key=f"system:test:{person.id}:0",
                kind="system",
                caregiver_id=person.id,
                to_number=phone.number,
                body="Little Moments: a planned text",
                due_at=utcnow(),
            )
        )
    phone.text("STOP")
    planned = [row for row in outbox(sessions, phone.number) if row.kind == "system"]
    assert [(row.state, row.error_message) for row in planned] == [
        ("cancelled", "caregiver opted out")
    ]


@pytest.mark.parametrize("opt_out_type", ["STOP", "stop"])
def test_twilio_opt_out_type_is_honoured_without_a_second_confirmation(
    client: TestClient, sessions: sessionmaker[Session], opt_out_type: str
) -> None:
    phone = Phone(client)
    enroll(phone)
    # A custom opt-out word configured in Twilio's Advanced Opt-Out, which we do not know.
    assert phone.text("ARRETEZ", OptOutType=opt_out_type) is None
    person = caregiver(sessions, phone.number)
    assert person.status == "opted_out"
    event = consents(sessions, phone.number)[-1]
    assert (event.kind, event.source, event.text) == ("opt_out", "twilio_opt_out_type", "ARRETEZ")
    assert phone.text("HELP", OptOutType="HELP") is None
    assert consents(sessions, phone.number)[-1].kind == "help"
    assert phone.text("START", OptOutType="START") is None
    assert caregiver(sessions, phone.number).status == "active"
    assert consents(sessions, phone.number)[-1].source == "twilio_opt_out_type"


def test_twilio_start_for_a_never_enrolled_number_continues_to_enrollment(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    assert phone.text("START", OptOutType="START") == WELCOME


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        ("", {}),
        ("🙂🎉👶", {}),
        ("x" * 2000, {}),
        ("\x00\x07hi\x1b", {}),
        ("", {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/media/1"}),
        ("hello", {"NumMedia": "lots"}),
        ("hello", {"OptOutType": "UNHEARD-OF"}),
    ],
)
def test_odd_first_texts_get_the_welcome(
    client: TestClient, sessions: sessionmaker[Session], body: str, extra: dict[str, str]
) -> None:
    phone = Phone(client)
    assert phone.text(body, **extra) == WELCOME
    with sessions() as session:
        [stored] = session.scalars(select(InboundMessage))
    assert "\x00" not in stored.body and stored.handled_as == "welcome"
    assert stored.caregiver_id == caregiver(sessions, phone.number).id


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        ("", {}),
        ("🙂🎉👶", {}),
        ("x" * 2000, {}),
        ("\x00\x07\x1b", {}),
        ("", {"NumMedia": "2"}),
    ],
)
def test_odd_answers_mid_enrollment_are_asked_again(
    client: TestClient, sessions: sessionmaker[Session], body: str, extra: dict[str, str]
) -> None:
    phone = Phone(client)
    phone.text("JOIN")
    phone.text("Maya")
    retry = phone.text(body, **extra)
    assert retry is not None and "3/14/2025" in retry
    person = caregiver(sessions, phone.number)
    assert person.conversation_step == "birth_date" and person.conversation_data["tries"] == 1


def test_a_photo_from_an_enrolled_parent_is_stored_and_thanked(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    enroll(phone)
    reply = phone.text("", NumMedia="1", MediaUrl0="https://api.twilio.com/media/1")
    assert reply is not None and "Thank you for writing" in reply
    with sessions() as session:
        stored = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
    assert stored is not None and (stored.num_media, stored.handled_as) == (1, "reply")


@pytest.mark.parametrize("sender", ["abc", "12345", "whatsapp:+12125550123", "+1999", "+"])
def test_a_sender_that_is_not_a_phone_number_gets_no_reply(
    client: TestClient, sessions: sessionmaker[Session], sender: str
) -> None:
    assert Phone(client, sender).text("JOIN") is None
    with sessions() as session:
        [stored] = session.scalars(select(InboundMessage))
    assert (stored.caregiver_id, stored.handled_as, stored.from_number) == (
        None,
        "not_a_phone",
        sender,
    )
    assert counts(sessions) == {**NOTHING, "inbound_message": 1}


@pytest.mark.parametrize("missing", ["MessageSid", "From"])
def test_missing_form_fields_get_empty_twiml_and_write_nothing(
    client: TestClient, sessions: sessionmaker[Session], missing: str
) -> None:
    phone = Phone(client)
    fields = phone.form("JOIN")
    del fields[missing]
    fields.pop("SmsMessageSid" if missing == "MessageSid" else "Body")
    response = phone.post(fields)
    assert response.status_code == 200 and "<Message>" not in response.text
    assert counts(sessions) == NOTHING


def test_only_post_is_allowed(client: TestClient) -> None:
    assert client.get("/sms/inbound").status_code == 405
