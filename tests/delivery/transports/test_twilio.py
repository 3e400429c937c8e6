"""The Twilio transport: Twilio's errors become the service's named errors, at the boundary."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus

import pytest
import responses
from hypothesis import given
from hypothesis import strategies as st
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from sms_service.core.errors import PermanentSend, RetryableSend
from sms_service.core.settings import Settings
from sms_service.delivery.transports import (
    AmbiguousSend,
    ConsoleTransport,
    RecipientUnsubscribed,
    TwilioTransport,
    UndeliverableNumber,
    build_transport,
)
from sms_service.delivery.transports.twilio import form_value, translate
from tests.fakes.twilio_server import FakeTwilio, Fault
from tests.helpers.settings import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, make_settings

MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{TEST_ACCOUNT_SID}/Messages.json"


def sdk_error(status: int, code: int | None, message: str) -> TwilioRestException:
    """The exception the real SDK raises for this answer from Twilio."""
    with responses.RequestsMock() as mock:
        mock.post(
            MESSAGES_URL,
            status=status,
            json={"code": code, "message": message, "more_info": "", "status": status},
        )
        client = Client(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
        with pytest.raises(TwilioRestException) as raised:
            client.messages.create(to="+12125550100", body="x", from_="+15005550006")
    return raised.value


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (429, 20429, RetryableSend),
        (400, 21611, RetryableSend),
        (400, 30001, RetryableSend),
        (503, None, AmbiguousSend),
        (400, 21610, RecipientUnsubscribed),
        (400, 21211, UndeliverableNumber),
        (400, 21612, UndeliverableNumber),
        (400, 21614, UndeliverableNumber),
        (400, 21408, PermanentSend),
        (400, 21606, PermanentSend),
    ],
)
def test_twilio_errors_are_classified(status: int, code: int | None, expected: type) -> None:
    error = translate(sdk_error(status, code, "Twilio says no"))

    assert type(error) is expected
    assert error.code == code
    assert "Twilio says no" in str(error)


@given(st.text())
def test_a_form_value_is_encoded_as_quote_plus_encodes_it(value: str) -> None:
    assert form_value(value) == quote_plus(value)


def test_a_text_reaches_twilio_as_written_with_its_sender_and_callback(database_url: str) -> None:
    body = "Hola & adiós = 100% + 👶\n¿Cantamos? a/b:c?d#e\u200f"
    callback = "https://tips.example.org/twilio/status?x=1&y=2"

    async def run(fake: FakeTwilio) -> None:
        transport = TwilioTransport(make_settings(database_url), api_base_url=fake.url)
        try:
            await transport.send(to="+12125550100", body=body, status_callback=callback)
            await transport.send(
                to="+12125550101", body=body, status_callback=None, sender="+15005550006"
            )
        finally:
            await transport.aclose()

    with FakeTwilio() as fake:
        asyncio.run(run(fake))
        ours, partners = (request.form for request in fake.requests)
    assert (ours["To"], ours["Body"], ours["StatusCallback"]) == ("+12125550100", body, callback)
    assert "MessagingServiceSid" in ours and "From" not in ours
    assert (partners["To"], partners["Body"], partners["From"]) == (
        "+12125550101",
        body,
        "+15005550006",
    )
    assert "StatusCallback" not in partners and "MessagingServiceSid" not in partners


def test_retry_after_reaches_the_dispatcher_and_from_number_is_used(database_url: str) -> None:
    settings = make_settings(
        database_url, TWILIO_MESSAGING_SERVICE_SID="", TWILIO_FROM_NUMBER="+15005550006"
    )

    async def run(fake: FakeTwilio) -> RetryableSend:
        transport = TwilioTransport(settings, api_base_url=fake.url)
        try:
            await transport.send(to="+12125550100", body="x", status_callback=None)
            fake.add_fault(Fault(status=429, code=20429, retry_after=42))
            with pytest.raises(RetryableSend) as raised:
                await transport.send(to="+12125550100", body="x", status_callback=None)
        finally:
            await transport.aclose()
        return raised.value

    with FakeTwilio() as fake:
        error = asyncio.run(run(fake))
        forms = [r.form for r in fake.requests]
    assert (error.retry_after, error.code, error.status) == (42.0, 20429, 429)
    assert all(form["From"] == "+15005550006" for form in forms)
    assert all("MessagingServiceSid" not in form for form in forms)


def test_a_reset_or_a_hang_is_an_ambiguous_send_and_the_next_send_goes_through(
    database_url: str,
) -> None:
    settings = make_settings(database_url)

    async def run(fake: FakeTwilio) -> list[str]:
        transport = TwilioTransport(settings, api_base_url=fake.url, timeout=0.5)
        try:
            sids = [(await transport.send(to="+12125550100", body="a", status_callback=None)).sid]
            for fault in (Fault(kind="reset"), Fault(kind="hang", delay=2.0)):
                fake.add_fault(fault)
                with pytest.raises(AmbiguousSend, match="no answer from Twilio"):
                    await transport.send(to="+12125550101", body="b", status_callback=None)
                result = await transport.send(to="+12125550102", body="c", status_callback=None)
                sids.append(result.sid)
        finally:
            await transport.aclose()
        return sids

    with FakeTwilio() as fake:
        sids = asyncio.run(run(fake))
        created = {m["sid"]: m["to"] for m in fake.messages}
        assert fake.violations == []
    assert len(set(sids)) == 3
    assert [created[sid] for sid in sids] == ["+12125550100", "+12125550102", "+12125550102"]


def test_find_sent_matches_body_and_time(database_url: str) -> None:
    settings = make_settings(database_url)
    now = datetime.now(UTC)

    async def find_queued(fake: FakeTwilio) -> str | None:
        transport = TwilioTransport(settings, api_base_url=fake.url)
        try:
            return await transport.find_sent(to="+12125550199", body="queued tip", since=now)
        finally:
            await transport.aclose()

    async def run(fake: FakeTwilio) -> list[str | None]:
        transport = TwilioTransport(settings, api_base_url=fake.url)
        try:
            return [
                await transport.find_sent(to="+12125550100", body="tip", since=now),
                await transport.find_sent(to="+12125550100", body="other", since=now),
                await transport.find_sent(to="+12125550199", body="tip", since=now),
                await transport.find_sent(
                    to="+12125550100", body="tip", since=now + timedelta(hours=1)
                ),
            ]
        finally:
            await transport.aclose()

    with FakeTwilio() as fake:
        sid = fake.add_message(to="+12125550100", body="tip")
        fake.add_message(to="+12125550100", body="tip", sent_at=now - timedelta(days=7))
        queued = fake.add_message(to="+12125550199", body="queued tip", queued=True)
        found = asyncio.run(run(fake))
        # Still queued at Twilio (no date_sent): the DateSent query misses it, the second finds it.
        found_queued = asyncio.run(find_queued(fake))
        assert fake.violations == []
    assert found == [sid, None, None, None]
    assert found_queued == queued


def test_console_transport_prints_masked_number_and_finds_its_own_sends() -> None:
    out = io.StringIO()
    console = ConsoleTransport(stream=out)
    since = datetime.now(UTC)

    result = asyncio.run(
        console.send(to="+12125550100", body="Little Moments: hi", status_callback=None)
    )

    assert re.match(r"CONSOLE-[0-9a-f]{32}$", result.sid)
    assert "Little Moments: hi" in out.getvalue()
    assert "+12125550100" not in out.getvalue()
    assert (
        asyncio.run(console.find_sent(to="+12125550100", body="Little Moments: hi", since=since))
        == result.sid
    )


def test_build_transport_picks_twilio_only_when_configured(database_url: str) -> None:
    assert isinstance(build_transport(Settings(database_url=database_url)), ConsoleTransport)
    transport = build_transport(make_settings(database_url))
    assert isinstance(transport, TwilioTransport)
    asyncio.run(transport.aclose())


def test_the_api_base_url_setting_sends_to_another_messages_api(database_url: str) -> None:
    """Operators point the service at a stand-in (staging, drills) with one setting."""
    with FakeTwilio() as fake:
        transport = build_transport(make_settings(database_url, TWILIO_API_BASE_URL=fake.url))

        async def send() -> str:
            try:
                result = await transport.send(to="+12125550100", body="drill", status_callback=None)
            finally:
                await transport.aclose()
            return result.sid

        sid = asyncio.run(send())
        assert [(m["sid"], m["body"]) for m in fake.messages] == [(sid, "drill")]
    assert make_settings(database_url).twilio_api_base_url is None  # Twilio unless set
