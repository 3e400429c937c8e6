"""Random conversations never get a 500 and never leave the records half-written."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from content.segments import analyze
from sms_service.core.models import (
    CAREGIVER_STATUSES,
    Caregiver,
    Child,
    InboundMessage,
    OutboundMessage,
)
from tests.helpers.texting import Phone

_numbers = itertools.count(1000)
WORDS = ["JOIN", "HOLA", "STOP", "START", "HELP", "PAUSE 2", "RESUME", "TIME", "LANG", "AGE",
         "ADD", "1", "2", "6", "Maya", "8 months", "due 6/1", "skip", "no more", "YES",
         # Texts that once gave a 500 (tests/texting/test_odd_texts.py has each one).
         "፩", "٣", "march ፩", "march 1 ፩፩", "march 99999999999999999999", "PAUSE ፩",
         "1000 years 1000 years 1000 years 1000 days", "1" * 5000, "PAUSE " + "9" * 4400,
         ]  # fmt: skip
BODIES = st.one_of(
    st.sampled_from(WORDS),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=300),
    st.text(st.characters(categories=["Nd", "No", "Zs"]), max_size=20),
)
# What Twilio sends is a small count; what a signed request may send is anything.
MEDIA = st.one_of(st.integers(0, 3).map(str), st.sampled_from(["፩", "²", "①", "٣", "lots", ""]))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    bodies=st.lists(BODIES, min_size=1, max_size=10),
    media=MEDIA,
    opt_out_type=st.sampled_from(["", "STOP", "START", "HELP", "HE\x00LP", "\x00"]),
    nul_in_sid=st.booleans(),  # PostgreSQL text cannot hold NUL: it is stored without
)
def test_random_conversations_stay_consistent(
    client: TestClient,
    sessions: sessionmaker[Session],
    bodies: list[str],
    media: str,
    opt_out_type: str,
    nul_in_sid: bool,
) -> None:
    phone = Phone(client, f"+1212555{next(_numbers):04d}")
    for index, body in enumerate(bodies):
        # Twilio's OptOutType on one text in a conversation, as Advanced Opt-Out would add it.
        extra = {"OptOutType": opt_out_type} if index == len(bodies) // 2 else {}
        fields = phone.form(body, NumMedia=media, **extra)
        if nul_in_sid:
            fields["MessageSid"] = fields["SmsMessageSid"] = fields["MessageSid"] + "\x00"
        response = phone.post(fields)
        assert response.status_code == 200, response.text
    with sessions() as session:
        inbound = list(
            session.scalars(
                select(InboundMessage).where(InboundMessage.from_number == phone.number)
            )
        )
        assert len(inbound) == len(bodies)
        assert all(row.handled_as for row in inbound)
        assert all(0 <= row.num_media <= 3 for row in inbound)
        sids = {row.message_sid for row in inbound}
        replies = list(
            session.scalars(
                select(OutboundMessage).where(OutboundMessage.to_number == phone.number)
            )
        )
        assert all(row.dedupe_key.removeprefix("reply:") in sids for row in replies)
        # Two segments, or three when a name as the parent wrote it forces UCS-2 (its price).
        sizes = [analyze(row.body) for row in replies]
        assert all(size.segments <= (3 if size.non_gsm else 2) for size in sizes)
        person = session.scalar(select(Caregiver).where(Caregiver.phone == phone.number))
        assert person is not None and person.status in CAREGIVER_STATUSES
        if person.status in {"active", "paused"}:
            assert person.send_weekday is not None and person.send_hour is not None
            active = session.scalars(
                select(Child).where(Child.caregiver_id == person.id, Child.status == "active")
            )
            assert list(active)
        if person.status == "opted_out":
            assert person.conversation_step is None
