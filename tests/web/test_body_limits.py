"""Oversized request bodies are refused with a 413 as they stream in, on every mount."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Message

from sms_service.core.audit import Actor
from sms_service.core.db import transaction
from sms_service.staff.tokens import create_api_token
from sms_service.web.guards import MAX_API_BYTES
from sms_service.web.twilio_signature import MAX_WEBHOOK_BYTES
from tests.helpers.people import add_staff
from tests.helpers.texting import NOTHING, Phone, counts


async def post_in_chunks(
    app: ASGIApp, path: str, headers: dict[str, str], chunks: int
) -> tuple[int, int]:
    """POST `chunks` 8 KiB chunks to `app` the way a server streams them (no Content-Length);
    the answer's status and how many chunks the app pulled before answering."""
    pulled = 0
    statuses: list[int] = []

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 8192, "more_body": pulled < chunks}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 443),
        "state": {},
    }
    await app(scope, receive, send)
    return statuses[0], pulled


def test_a_webhook_larger_than_twilio_sends_is_refused_and_stores_nothing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client)
    fields = phone.form("JOIN", Padding="x" * MAX_WEBHOOK_BYTES)
    response = phone.post(fields)
    assert (response.status_code, response.text) == (413, "Content Too Large")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for path in ("/sms/inbound", "/sms/status"):
        status, pulled = asyncio.run(post_in_chunks(client.app, path, form, chunks=1000))
        # Refused once the limit is passed, not after 8 MB were held.
        assert (status, pulled) == (413, MAX_WEBHOOK_BYTES // 8192 + 1), path
    assert counts(sessions) == NOTHING
    # A 5,000-character text is well inside the limit and is answered as usual.
    assert phone.text("x" * 5000) is not None


def test_an_api_body_is_cut_off_before_it_is_read_whole(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        staff_id = add_staff(session, "sam@example.org")
        token = create_api_token(
            session, staff_user_id=staff_id, name="tests", actor=Actor(name="test")
        )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    status, pulled = asyncio.run(post_in_chunks(client.app, "/api/campaigns", headers, 1000))
    assert (status, pulled) == (413, MAX_API_BYTES // 8192 + 1)


@pytest.mark.parametrize("declared", [str(MAX_API_BYTES + 1), "99999999999999999999999"])
def test_a_declared_length_over_the_limit_is_refused_unread(
    client: TestClient, declared: str
) -> None:
    response = client.post("/api/campaigns", content=b"{}", headers={"Content-Length": declared})
    assert response.status_code == 413
