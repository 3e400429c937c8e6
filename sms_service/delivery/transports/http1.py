"""A small HTTP/1.1 keep-alive client for the dispatcher's one hot request: creating a message.

aiohttp cost about 240 microseconds of CPU per request in the sending benchmark, more than the
rest of a send together; this pool writes a request with one transport.write and hands the
answer's bytes to httptools (llhttp, the C parser uvicorn uses), which costs about a third of
that. It speaks only what Twilio's Messages API needs: POST, no redirects, no compression, TLS
for https. Errors are OSError (connection refused, reset, closed before the whole answer, an
answer that is not HTTP) or TimeoutError (no whole answer within `timeout`); the transport
treats both as ambiguous (the request may have reached Twilio).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """A whole HTTP answer: status, headers (names lower-case) and body."""

    status: int
    headers: dict[str, str]
    body: bytes


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time. httptools calls the on_* methods."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = True
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future[HttpAnswer] | None = None
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._headers_done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP connection's transport, though not always an asyncio.Transport subclass:
        # uvloop's (the loop of `serve`) is not, and an isinstance check refused every send.
        self.transport = cast(asyncio.Transport, transport)

    def send(self, data: bytes, answer: asyncio.Future[HttpAnswer]) -> None:
        assert self.transport is not None
        self._answer = answer
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        if self._answer is None:
            self.reusable = False  # bytes nobody asked for: the connection is not clean
            return
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as error:
            self._fail(ConnectionError(f"an answer that is not HTTP/1.1: {error}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        if self._answer is None:
            return
        if self._headers_done and self._until_close():
            self.on_message_complete()  # the body ran until the server closed
            return
        self._fail(ConnectionResetError("the connection closed before the answer"))

    def close(self) -> None:
        self.closed = True
        self.reusable = False
        if self.transport is not None:
            self.transport.close()

    # httptools callbacks

    def on_message_begin(self) -> None:
        if self._answer is None:
            self.reusable = False  # an answer past the one asked for

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        answer = self._answer
        if answer is None:
            return  # the answer past the one asked for (on_message_begin marked it)
        if not self._parser.should_keep_alive():
            self.reusable = False  # Connection: close, HTTP/1.0, or a body until close
        result = HttpAnswer(self._parser.get_status_code(), self._headers, b"".join(self._body))
        self._reset()
        if not answer.done():
            answer.set_result(result)

    def _until_close(self) -> bool:
        """Whether this answer's body ends only when the server closes (RFC 9112 6.3, item 8)."""
        status = self._parser.get_status_code()
        return (
            "content-length" not in self._headers
            and "transfer-encoding" not in self._headers
            and status >= 200
            and status not in (204, 304)
        )

    def _fail(self, error: OSError) -> None:
        answer = self._answer
        self._reset()
        if answer is not None and not answer.done():
            answer.set_exception(error)

    def _reset(self) -> None:
        self._answer, self._headers, self._body, self._headers_done = None, {}, [], False


class KeepAlivePool:
    """Up to `max_connections` kept-alive connections to the host of `base_url`."""

    def __init__(
        self,
        base_url: str,
        *,
        max_connections: int,
        timeout: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url}")
        self._host = parts.hostname
        self._ssl = None
        if parts.scheme == "https":
            self._ssl = ssl_context or ssl.create_default_context()
        self._port = parts.port or (443 if self._ssl else 80)
        self._host_header = parts.netloc.rpartition("@")[2]
        self._timeout = timeout
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Connection] = []

    async def post(self, path: str, body: bytes, headers: str) -> HttpAnswer:
        """POST `body` to `path`; `headers` are ready-made "Name: value\\r\\n" lines."""
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host_header}\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1") + body
        async with self._slots:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self._timeout
            connection = await self._connection(loop)
            answer: asyncio.Future[HttpAnswer] = loop.create_future()
            timer = loop.call_at(deadline, _time_out, answer)
            try:
                connection.send(request, answer)
                result = await answer
            except BaseException:
                connection.close()
                raise
            finally:
                timer.cancel()
            if connection.reusable and not connection.closed:
                self._idle.append(connection)
            else:
                connection.close()
            return result

    async def _connection(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection.reusable and not connection.closed:
                return connection
            connection.close()
        _transport, connection = await asyncio.wait_for(
            loop.create_connection(_Connection, self._host, self._port, ssl=self._ssl),
            self._timeout,
        )
        return connection

    async def close(self) -> None:
        """Close every idle connection."""
        while self._idle:
            self._idle.pop().close()


def _time_out(answer: asyncio.Future[HttpAnswer]) -> None:
    if not answer.done():
        answer.set_exception(TimeoutError("no whole answer in time"))
