"""Texts that gave a 500 (and were lost) when the running service was fuzzed from outside: each
is now stored and answered, mid-conversation with the re-ask a wrong answer gets, and the
parent can carry on as if it had been any other wrong answer.

The causes: str.isdigit() accepts digits int() refuses ("፩", "²", "①") and numbers too long
for int() (past 4,300 digits); date arithmetic overflowed on huge ages; and PostgreSQL text
columns cannot hold NUL, so a NUL in a stored field lost the whole text (a 503).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.models import InboundMessage, utcnow
from tests.helpers.texting import SERVICE_NUMBER, Phone, caregiver, children, consents, replies

ASK_NAME = "What is your child's first name?"
BIRTH_RETRY = "Sorry, we did not get that. Please send a birth date like 3/14/2025"
BIRTH_TOO_OLD = "Our tips are for children under 3 years old."
BIRTH_TOO_FAR = "That due date looks too far away."
SCHEDULE_RETRY = "Sorry, please reply with a number from 1 to 6"
WELCOME = "Reply 1 for English. ¡Hola! Responde 2 para español."
ENROLLED = "You're signed up!"
THANKS = "Thank you for writing!"

# From a fresh phone: the texts before the odd one, and the answers that finish enrolling after.
FRESH: tuple[list[str], list[str]] = ([], ["1", "Maya", "8 months", "1"])
AT_NAME = (["JOIN"], ["Maya", "8 months", "1"])
AT_BIRTH = (["JOIN", "Maya"], ["8 months", "1"])
AT_SCHEDULE = (["JOIN", "Maya", "8 months"], ["1"])
ENROLL = ["JOIN", "Maya", "8 months", "1"]


@dataclass(frozen=True)
class Odd:
    """An odd text, sent after `before`; its reply contains `reply`; `after` then enrolls."""

    before: list[str]
    body: str
    reply: str
    after: list[str]
    num_media: str = "0"


ODD_ENROLLING = {
    # NumMedia is a count Twilio fills in; a numeral int() refuses counts as no media.
    **{
        f"NumMedia={media} {step}": Odd(before, "hi", reply, after, num_media=media)
        for media in ("፩", "²", "①")
        for step, (before, after), reply in (
            ("first text", FRESH, WELCOME),
            ("at the birth date", AT_BIRTH, BIRTH_RETRY),
            ("at the schedule", AT_SCHEDULE, SCHEDULE_RETRY),
        )
    },
    "schedule ፩": Odd(AT_SCHEDULE[0], "፩", SCHEDULE_RETRY, AT_SCHEDULE[1]),
    "schedule 1 x 5000": Odd(AT_SCHEDULE[0], "1" * 5000, SCHEDULE_RETRY, AT_SCHEDULE[1]),
    "march ፩": Odd(AT_BIRTH[0], "march ፩", BIRTH_RETRY, AT_BIRTH[1]),
    "march 1 ፩፩": Odd(AT_BIRTH[0], "march 1 ፩፩", BIRTH_RETRY, AT_BIRTH[1]),
    "march 9 x 20": Odd(AT_BIRTH[0], "march " + "9" * 20, BIRTH_RETRY, AT_BIRTH[1]),
    "4000 years ago": Odd(
        AT_BIRTH[0], "1000 years 1000 years 1000 years 1000 days", BIRTH_TOO_OLD, AT_BIRTH[1]
    ),
    "due in 8000 years": Odd(
        AT_BIRTH[0], "due in " + "1000 years " * 8 + "1000 days", BIRTH_TOO_FAR, AT_BIRTH[1]
    ),
    "birth 1 x 5000": Odd(AT_BIRTH[0], "1" * 5000, BIRTH_RETRY, AT_BIRTH[1]),
}


def _stored(sessions: sessionmaker[Session], sid: str) -> InboundMessage:
    with sessions() as session:
        row = session.scalar(select(InboundMessage).where(InboundMessage.message_sid == sid))
        assert row is not None, f"text {sid} was not stored"
        return row


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return len(list(session.scalars(select(InboundMessage.id))))


def _send(phone: Phone, body: str, **extra: str) -> tuple[str | None, str]:
    """Text `body`; the reply (a 200 with TwiML is asserted) and the MessageSid used."""
    fields = phone.form(body, **extra)
    response = phone.post(fields)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("application/xml")
    [reply] = replies(response.text) or [None]
    return reply, fields["MessageSid"]


@pytest.mark.parametrize("odd", ODD_ENROLLING.values(), ids=ODD_ENROLLING.keys())
def test_an_odd_answer_while_enrolling_is_stored_and_asked_again(
    client: TestClient, sessions: sessionmaker[Session], odd: Odd
) -> None:
    phone = Phone(client)
    for text in odd.before:
        phone.text(text)
    reply, sid = _send(phone, odd.body, NumMedia=odd.num_media)
    assert reply is not None and odd.reply in reply
    stored = _stored(sessions, sid)
    person = caregiver(sessions, phone.number)
    assert (stored.body, stored.num_media, stored.caregiver_id) == (odd.body, 0, person.id)
    assert stored.handled_as in {"welcome", "answer"}
    if odd.before:  # a wrong answer, counted as one
        assert person.conversation_data["tries"] == 1
    last: str | None = None
    for text in odd.after:
        last = phone.text(text)
    assert last is not None and ENROLLED in last
    person = caregiver(sessions, phone.number)
    assert (person.status, person.send_weekday, person.send_hour) == ("active", 0, 9)
    [child] = children(sessions, phone.number)
    assert child.name == "Maya" and not child.is_expected


@pytest.mark.parametrize("media", ["፩", "²", "①"])
def test_an_odd_media_count_from_an_enrolled_parent_is_thanked(
    client: TestClient, sessions: sessionmaker[Session], media: str
) -> None:
    phone = Phone(client)
    for text in ENROLL:
        phone.text(text)
    reply, sid = _send(phone, "hi", NumMedia=media)
    assert reply is not None and THANKS in reply
    assert (_stored(sessions, sid).num_media, _stored(sessions, sid).handled_as) == (0, "reply")


@pytest.mark.parametrize(
    ("argument", "weeks"),
    [("፩", 4), ("9" * 4400, 12), ("٢", 2)],
    ids=["ethiopic one: the default", "4,400 nines: the longest", "arabic-indic two"],
)
def test_pause_with_an_odd_number(
    client: TestClient, sessions: sessionmaker[Session], argument: str, weeks: int
) -> None:
    phone = Phone(client)
    for text in ENROLL:
        phone.text(text)
    before = utcnow()
    reply, sid = _send(phone, f"PAUSE {argument}")
    assert reply is not None and "Your tips are paused until" in reply
    assert _stored(sessions, sid).handled_as == "command:pause"
    person = caregiver(sessions, phone.number)
    assert person.status == "paused" and person.paused_until is not None
    assert abs(person.paused_until - (before + timedelta(weeks=weeks))) < timedelta(minutes=5)
    resumed = phone.text("RESUME")
    assert resumed is not None and "Welcome back" in resumed
    assert caregiver(sessions, phone.number).status == "active"


def test_time_then_an_odd_number_is_asked_again(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    for text in ENROLL:
        phone.text(text)
    phone.text("TIME")
    reply, sid = _send(phone, "፩")
    assert reply is not None and SCHEDULE_RETRY in reply
    assert _stored(sessions, sid).handled_as == "answer"
    done = phone.text("٤")  # Arabic-Indic 4: read as the digit it is
    assert done == "Little Moments: Done! Your tips will now come every Wednesday evening."
    person = caregiver(sessions, phone.number)
    assert (person.send_weekday, person.send_hour, person.conversation_step) == (2, 18, None)


def test_age_then_an_odd_date_is_asked_again(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    for text in ENROLL:
        phone.text(text)
    phone.text("AGE")
    reply, sid = _send(phone, "march ፩")
    assert reply is not None and BIRTH_RETRY in reply
    assert _stored(sessions, sid).handled_as == "answer"
    done = phone.text("DUE in 10 weeks")
    assert done is not None and "Tips for Maya will now match that date" in done
    [child] = children(sessions, phone.number)
    assert child.is_expected


# A NUL where Twilio never puts one: the text is stored without it (PostgreSQL text cannot
# hold NUL; it used to lose the whole text with a 503) and answered like any other.
@pytest.mark.parametrize("field", ["MessageSid", "From", "To", "OptOutType"])
def test_a_nul_in_a_field_is_removed_and_the_text_answered(
    client: TestClient, sessions: sessionmaker[Session], field: str
) -> None:
    phone = Phone(client)
    fields = phone.form("JOIN")
    clean = {
        "MessageSid": fields["MessageSid"],
        "From": phone.number,
        "To": SERVICE_NUMBER,
        "OptOutType": "HELP",
    }[field]
    fields[field] = clean[:6] + "\x00" + clean[6:] + "\x00"
    if field == "MessageSid":
        fields["SmsMessageSid"] = fields["MessageSid"]
    response = phone.post(fields)
    assert response.status_code == 200, response.text[:300]
    sid = fields["MessageSid"].replace("\x00", "")
    stored = _stored(sessions, sid)
    assert (stored.message_sid, stored.from_number, stored.to_number) == (
        sid,
        phone.number,
        SERVICE_NUMBER,
    )
    if field == "OptOutType":
        # Twilio answered the HELP itself; ours would be a second one. Acted on as stored.
        assert stored.opt_out_type == "HELP"
        assert replies(response.text) == []
        assert consents(sessions, phone.number)[-1].source == "twilio_opt_out_type"
    else:
        assert stored.opt_out_type is None
        [reply] = replies(response.text)
        assert ASK_NAME in reply
    assert stored.handled_as in {"keyword", "help"}
    # The same text again (as Twilio retries) is recognised as the one already stored.
    again = phone.post(fields)
    assert again.status_code == 200 and replies(again.text) == []
    assert _count(sessions) == 1
    if field == "OptOutType":
        phone.text("JOIN")
    phone.text("Maya")
    assert caregiver(sessions, phone.number).conversation_step == "birth_date"
