"""The fake Twilio speaks Twilio's documented API, and refuses what the real one would refuse."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.fakes.twilio_server import FakeTwilio, Fault, load_spec
from tests.helpers.settings import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_MESSAGING_SERVICE_SID,
)

MESSAGES = f"/2010-04-01/Accounts/{TEST_ACCOUNT_SID}/Messages.json"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


def sdk(fake: FakeTwilio) -> Client:
    client = Client(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    client.api.base_url = fake.url
    return client


def test_the_sdk_creates_and_lists_messages_with_the_documented_shape(fake: FakeTwilio) -> None:
    client = sdk(fake)
    created = client.messages.create(
        to="+12125550100",
        body="Little Moments: hello",
        messaging_service_sid=TEST_MESSAGING_SERVICE_SID,
        status_callback="https://tips.example.test/sms/status",
    )
    client.messages.create(to="+12125550199", body="other", from_="+15005550006")

    assert created.sid.startswith("SM") and len(created.sid) == 34
    assert created.status == "queued"
    assert created.num_segments == "1"
    [listed] = client.messages.list(to="+12125550100", date_sent_after=datetime.now(UTC).date())
    assert listed.sid == created.sid
    assert listed.body == "Little Moments: hello"
    assert (
        client.messages.list(
            to="+12125550100", date_sent_after=datetime.now(UTC) + timedelta(days=1)
        )
        == []
    )
    raw = httpx.get(fake.url + MESSAGES, auth=(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)).json()
    assert set(raw["messages"][0]) == set(load_spec().message_keys)
    assert fake.violations == []
    assert [m["to"] for m in fake.messages] == ["+12125550100", "+12125550199"]


@pytest.mark.parametrize(
    ("form", "problem"),
    [
        ({"To": "+12125550100", "Body": "x", "Sender": "+15005550006"}, "not in the spec"),
        ({"To": "+12125550100", "Body": "x"}, "neither From nor MessagingServiceSid"),
        ({"To": "212-555-0100", "Body": "x", "From": "+15005550006"}, "E.164"),
        ({"To": "+12125550100", "Body": "x", "MessagingServiceSid": "MG1"}, "does not match"),
        ({"Body": "x", "From": "+15005550006"}, "required"),
    ],
)
def test_requests_twilio_would_refuse_are_refused_and_noted(
    fake: FakeTwilio, form: dict[str, str], problem: str
) -> None:
    response = httpx.post(fake.url + MESSAGES, data=form, auth=(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN))

    assert response.status_code == 400
    assert problem in fake.violations[0]
    assert fake.messages == []


def test_wrong_credentials_get_401(fake: FakeTwilio) -> None:
    client = Client(TEST_ACCOUNT_SID, "0" * 32)
    client.api.base_url = fake.url
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to="+12125550100", body="x", from_="+15005550006")
    assert (raised.value.status, raised.value.code) == (401, 20003)


def test_injected_faults_for_one_number_then_normal_service(fake: FakeTwilio) -> None:
    fake.add_fault(Fault(status=429, code=20429, retry_after=7), to="+12125550100", times=2)
    form = {"To": "+12125550100", "Body": "x", "From": "+15005550006"}
    auth = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)

    other = httpx.post(fake.url + MESSAGES, data={**form, "To": "+12125550101"}, auth=auth)
    limited = [httpx.post(fake.url + MESSAGES, data=form, auth=auth) for _ in range(3)]

    assert other.status_code == 201
    assert [r.status_code for r in limited] == [429, 429, 201]
    assert limited[0].headers["Retry-After"] == "7"
    assert limited[0].json()["code"] == 20429


def test_a_reset_drops_the_connection_and_latency_is_applied(fake: FakeTwilio) -> None:
    fake.add_fault(Fault(kind="reset", after_create=True))
    fake.latency = 0.2
    form = {"To": "+12125550100", "Body": "x", "From": "+15005550006"}
    auth = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)

    with pytest.raises(httpx.TransportError):
        httpx.post(fake.url + MESSAGES, data=form, auth=auth)
    assert len(fake.messages) == 1  # Twilio had created it: only reconciliation can tell

    started = datetime.now(UTC)
    assert httpx.post(fake.url + MESSAGES, data=form, auth=auth).status_code == 201
    assert datetime.now(UTC) - started >= timedelta(seconds=0.2)
