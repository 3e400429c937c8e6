"""A request id on every log line of a request: an ASGI middleware that takes a sane incoming
`X-Request-Id` (a proxy's) or makes one, sets it for the request's logging
(core.logsetup.REQUEST_ID) and returns it in the response's `X-Request-Id` header."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sms_service.core.logsetup import REQUEST_ID

HEADER = "X-Request-Id"
# What an id from outside may look like: short, and nothing a log line or a header could trip
# on (a proxy's UUID or hex id; Heroku's and Caddy's fit).
_SANE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,63}$")


def request_id_for(incoming: str | None) -> str:
    """The incoming id when it is sane, else a new one (32 hex digits)."""
    if incoming and _SANE.match(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_for(Headers(scope=scope).get(HEADER))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        token = REQUEST_ID.set(request_id)
        await self.app(scope, receive, send_with_id)
        # Only when the request ends well: after an exception the id stays set, so the
        # server's traceback line (logged in this same context: uvicorn runs each request in
        # a task of its own, which copied the context) still carries it.
        REQUEST_ID.reset(token)
