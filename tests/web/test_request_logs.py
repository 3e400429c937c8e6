"""Structured logs: JSON lines in production, text locally; each line of a request carries its
id (sent back in X-Request-Id); phone numbers stay masked and request fields on one line."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from sms_service.core.logsetup import REQUEST_ID, configure_logging
from sms_service.web.request_id import RequestIdMiddleware, request_id_for
from tests.helpers.settings import TEST_AUTH_TOKEN
from tests.helpers.texting import INBOUND_URL, Phone
from tests.helpers.twilio_signing import twilio_signature

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
GIVEN_ID = "req-0123456789abcdef"


def text_with_id(client: TestClient, phone: Phone, body: str, request_id: str | None) -> str:
    """Send `body` from `phone`; the response's X-Request-Id."""
    fields = phone.form(body)
    headers = {"X-Twilio-Signature": twilio_signature(INBOUND_URL, fields, TEST_AUTH_TOKEN)}
    if request_id is not None:
        headers["X-Request-Id"] = request_id
    response = client.post("/sms/inbound", data=fields, headers=headers)
    assert response.status_code == 200
    returned: str = response.headers["x-request-id"]
    return returned


@sqlite_only
def test_json_lines_carry_the_request_id_on_every_line_and_mask_phones(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    phone = Phone(client, "+12125550188")
    assert text_with_id(client, phone, "JOIN", GIVEN_ID) == GIVEN_ID
    made = text_with_id(client, phone, "Hi\nthere, call +12125550199", None)
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    err = capsys.readouterr().err
    entries = [json.loads(line) for line in err.splitlines()]  # every line is one object
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    first = [entry for entry in entries if entry.get("request_id") == GIVEN_ID]
    second = [entry for entry in entries if entry.get("request_id") == made]
    messages = " | ".join(entry["message"] for entry in first)
    assert "new caregiver ***0188" in messages and "handled as keyword" in messages
    assert any("handled as" in entry["message"] for entry in second)
    # Nothing the service logged is without its id (lines from threads included); the test
    # client's own lines ("HTTP Request: ...") are outside any request.
    service = [entry for entry in entries if entry["logger"].startswith("sms_service")]
    assert len(first) + len(second) == len(service)
    assert "+12125550188" not in err and "2125550188" not in err and "5550199" not in err


@sqlite_only
def test_a_forged_line_in_a_field_stays_inside_one_json_value(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    phone = Phone(client, "+12125550189")
    fields = phone.form("JOIN")
    forged = 'SM1\n{"level": "INFO", "message": "forged"}'
    fields["MessageSid"] = fields["SmsMessageSid"] = forged
    assert phone.post(fields).status_code == 200
    lines = capsys.readouterr().err.splitlines()
    entries = [json.loads(line) for line in lines]
    assert not any(entry["message"] == "forged" for entry in entries)
    assert any("text SM1\\n{" in entry["message"] for entry in entries)  # escaped, as in text


@sqlite_only
def test_text_lines_show_the_request_id_after_the_logger_name(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "text")
    text_with_id(client, Phone(client, "+12125550190"), "JOIN", GIVEN_ID)
    lines = capsys.readouterr().err.splitlines()
    handled = [line for line in lines if "handled as keyword" in line]
    assert handled and f"sms_service.texting.inbound [{GIVEN_ID}]: text SM" in handled[0]
    assert all(f"[{GIVEN_ID}]" in line for line in lines if " sms_service." in line)


def test_an_incoming_request_id_is_kept_only_when_it_is_sane() -> None:
    assert request_id_for("3f2c9a1e-77b0-4c1e-9d2a-0b8f6e5d4c3b") == (
        "3f2c9a1e-77b0-4c1e-9d2a-0b8f6e5d4c3b"
    )
    for bad in (None, "", "short", "has spaces in it", "x" * 65, "id\r\nSet-Cookie: a=b"):
        made = request_id_for(bad)
        assert made != bad and re.fullmatch(r"[0-9a-f]{32}", made)


@sqlite_only
def test_every_response_carries_a_request_id(client: TestClient) -> None:
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/healthz").headers["x-request-id"]
    assert first != second
    assert client.get("/healthz", headers={"X-Request-Id": GIVEN_ID}).headers["x-request-id"] == (
        GIVEN_ID
    )


@sqlite_only
def test_a_failing_request_still_answers_with_its_id_and_its_traceback_carries_it(
    app: Starlette,
) -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError("boom")

    app.router.routes.append(Route("/boom", boom))
    with TestClient(app, raise_server_exceptions=False) as web:
        response = web.get("/boom", headers={"X-Request-Id": GIVEN_ID})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == GIVEN_ID

    async def server() -> str | None:  # as uvicorn does: log the exception in the same task
        scope = {"type": "http", "method": "GET", "path": "/", "headers": []}

        async def fails(scope: Scope, receive: Receive, send: Send) -> None:
            raise RuntimeError("boom")

        try:
            await RequestIdMiddleware(fails)(scope, _nothing, _discard)
        except RuntimeError:
            return REQUEST_ID.get()
        return None

    assert re.fullmatch(r"[0-9a-f]{32}", asyncio.run(server()) or "")
    assert REQUEST_ID.get() is None  # that task's context, not this one


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


async def _discard(message: Message) -> None:
    return None
