"""The keep-alive pool against real loopback servers: every way an HTTP/1.1 answer can end."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
import trustme

from sms_service.core import eventloop
from sms_service.delivery.transports.http1 import HttpAnswer, KeepAlivePool

T = TypeVar("T")
HEADERS = "Accept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n"
Answer = Callable[[asyncio.StreamWriter, int], Awaitable[None]]
# The loop each test runs on: asyncio's, and uvloop's (`serve` and the dispatcher run there;
# its transports are not asyncio.Transport subclasses, which once made every send fail).
_loop: list[Callable[[], asyncio.AbstractEventLoop] | None] = [None]


@pytest.fixture(autouse=True, params=["asyncio", "uvloop"])
def event_loop_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    _loop[0] = eventloop.loop_factory() if request.param == "uvloop" else None
    yield request.param
    _loop[0] = None


def on_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on this test's loop."""
    with asyncio.Runner(loop_factory=_loop[0]) as runner:
        return runner.run(main)


@dataclass
class Server:
    """A loopback server: its URL, and what each TCP connection asked for."""

    url: str
    connections: list[list[bytes]] = field(default_factory=list)

    @property
    def requests(self) -> list[bytes]:
        return [request for connection in self.connections for request in connection]


@asynccontextmanager
async def serve(answer: Answer, *, tls: ssl.SSLContext | None = None) -> AsyncIterator[Server]:
    """Serve on 127.0.0.1; `answer(writer, n)` answers the n-th request (from 0) of the server."""
    server = Server(url="")
    count = 0
    handlers: list[asyncio.Task[None]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]  # always in a task
        asked: list[bytes] = []
        server.connections.append(asked)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                asked.append(head + await reader.readexactly(length))
                count += 1
                await answer(writer, count - 1)
                if writer.is_closing():
                    return
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # the client closed (or refused our certificate)
        except asyncio.CancelledError:
            pass  # the test is over (asyncio would log a cancelled handler as an error)
        finally:
            writer.close()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    port = listener.sockets[0].getsockname()[1]
    server.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    async with listener:
        yield server
        listener.close()
        for handler in handlers:
            handler.cancel()
        await asyncio.gather(*handlers)


def created(writer: asyncio.StreamWriter, body: bytes, extra: bytes = b"") -> None:
    writer.write(
        b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )


async def post_times(
    server: Server, times: int, ssl_context: ssl.SSLContext | None = None
) -> list[HttpAnswer]:
    """POST `times` times, one after another, through one pool."""
    pool = KeepAlivePool(server.url, max_connections=4, timeout=2.0, ssl_context=ssl_context)
    try:
        return [
            await pool.post("/Messages.json", b"To=%2B1212&n=" + str(n).encode(), HEADERS)
            for n in range(times)
        ]
    finally:
        await pool.close()


def exchange(
    answer: Answer,
    times: int,
    *,
    tls: ssl.SSLContext | None = None,
    client: ssl.SSLContext | None = None,
) -> tuple[list[HttpAnswer], Server]:
    """Serve with `answer` and POST to it `times` times through one pool."""

    async def run() -> tuple[list[HttpAnswer], Server]:
        async with serve(answer, tls=tls) as server:
            return await post_times(server, times, client), server

    return on_loop(run())


def test_a_content_length_answer_is_read_and_the_request_is_whole() -> None:
    async def answer(writer: asyncio.StreamWriter, n: int) -> None:
        created(writer, b'{"sid": "SM1", "status": "queued"}', b"Retry-After: 7\r\n")

    [result], server = exchange(answer, 1)
    assert (result.status, json.loads(result.body)) == (201, {"sid": "SM1", "status": "queued"})
    assert result.headers["retry-after"] == "7"
    assert result.headers["content-type"] == "application/json"
    [request] = server.requests
    assert request.startswith(b"POST /Messages.json HTTP/1.1\r\nHost: 127.0.0.1:")
    assert request.endswith(b"\r\n\r\nTo=%2B1212&n=0")


def test_sequential_requests_share_one_keep_alive_connection() -> None:
    async def answer(writer: asyncio.StreamWriter, n: int) -> None:
        created(writer, b'{"sid": "SM%d"}' % n)

    results, server = exchange(answer, 3)
    assert [json.loads(r.body)["sid"] for r in results] == ["SM0", "SM1", "SM2"]
    assert [len(asked) for asked in server.connections] == [3]


def test_a_chunked_answer_split_across_many_writes_is_joined() -> None:
    body = json.dumps({"sid": "SM42", "body": "a tip " * 40}).encode()
    pieces = [body[i : i + 37] for i in range(0, len(body), 37)]
    head = b"HTTP/1.1 201 Created\r\nTwilio-Request-Id: RQ1\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunks = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in pieces)
    wire = head + chunks + b"0\r\nX-T: 1\r\n\r\n"

    async def answer(writer: asyncio.StreamWriter, n: int) -> None:
        for i in range(0, len(wire), 5):  # cuts header lines, size lines, data and CRLFs apart
            writer.write(wire[i : i + 5])
            await writer.drain()
            await asyncio.sleep(0.001)

    results, server = exchange(answer, 2)
    assert [r.body for r in results] == [body, body]
    assert [r.headers["twilio-request-id"] for r in results] == ["RQ1", "RQ1"]
    assert [len(asked) for asked in server.connections] == [2]  # the parser was ready again


def test_a_body_delimited_by_close_is_whole_and_the_next_request_reconnects() -> None:
    async def answer(writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n\r\n")
        writer.write(b'{"sid": ')
        await writer.drain()
        await asyncio.sleep(0.01)
        writer.write(b'"SM%d"}' % n)
        writer.close()

    results, server = exchange(answer, 2)
    assert [json.loads(r.body)["sid"] for r in results] == ["SM0", "SM1"]
    assert [len(asked) for asked in server.connections] == [1, 1]


@pytest.mark.parametrize("close", [b"Connection: close\r\n", b""], ids=["close-header", "http1.0"])
def test_an_answer_that_ends_the_connection_is_not_reused(close: bytes) -> None:
    async def answer(writer: asyncio.StreamWriter, n: int) -> None:
        head = b"HTTP/1.1" if close else b"HTTP/1.0"
        # The server leaves the socket open: only the client can decide not to reuse it.
        writer.write(head + b" 201 Created\r\n" + close + b"Content-Length: 2\r\n\r\n{}")

    results, server = exchange(answer, 3)
    assert [r.body for r in results] == [b"{}"] * 3
    assert [len(asked) for asked in server.connections] == [1, 1, 1]


def test_bytes_past_the_answer_make_the_connection_unfit_for_reuse() -> None:
    async def answer(writer: asyncio.StreamWriter, n: int) -> None:
        created(writer, b'{"sid": "SM%d"}' % n)
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 15\r\n\r\n")  # nobody asked

    results, server = exchange(answer, 2)
    assert [json.loads(r.body)["sid"] for r in results] == ["SM0", "SM1"]
    assert [len(asked) for asked in server.connections] == [1, 1]


@pytest.mark.parametrize(
    "partial",
    [
        b"HTTP/1.1 201 Created\r\nContent-Length: 100\r\n\r\n" + b'{"sid": "SM1"',
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n" + b'5\r\n{"sid',
        b"HTTP/1.1 201 Crea",
        b"",
    ],
    ids=["content-length", "chunked", "head", "nothing"],
)
def test_a_server_closing_mid_answer_is_an_os_error(partial: bytes) -> None:
    async def answer(writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(partial)
        writer.close()

    with pytest.raises(OSError):
        exchange(answer, 1)


def test_an_answer_that_is_not_http_is_an_os_error() -> None:
    async def answer(writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    with pytest.raises(OSError, match="not HTTP"):
        exchange(answer, 1)


def test_a_server_that_never_answers_times_out_within_the_timeout() -> None:
    async def answer(writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\n{")  # then nothing
        await asyncio.sleep(30)

    async def run() -> float:
        async with serve(answer) as server:
            pool = KeepAlivePool(server.url, max_connections=1, timeout=0.3)
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await pool.post("/Messages.json", b"To=1", HEADERS)
            return time.monotonic() - started

    # (uvloop's timers run on libuv's clock, in whole milliseconds: one may fire a fraction of a
    # millisecond before time.monotonic() says 0.3 s have passed)
    assert 0.299 <= on_loop(run()) < 1.5


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (b"400 Bad Request", {"code": 21211, "message": "The 'To' number is not valid."}),
        (b"429 Too Many Requests", {"code": 20429, "message": "Too Many Requests"}),
        (b"503 Service Unavailable", {"code": None, "message": "Service Unavailable " * 50}),
    ],
)
def test_an_error_answer_with_a_json_body_is_returned_whole(
    status: bytes, error: dict[str, object]
) -> None:
    body = json.dumps({**error, "more_info": "https://www.twilio.com/docs/errors"}).encode()

    async def answer(writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n" % (status, len(body)))
        writer.write(body[:20])
        await writer.drain()
        await asyncio.sleep(0.01)
        writer.write(body[20:])

    results, server = exchange(answer, 2)
    assert [(r.status, r.body) for r in results] == [(int(status[:3]), body)] * 2
    assert [len(asked) for asked in server.connections] == [2]


def tls_server(ca: trustme.CA, host: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(host).configure_cert(context)
    return context


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def test_https_verifies_the_certificate_and_keeps_the_connection() -> None:
    ca = trustme.CA()

    async def answer(writer: asyncio.StreamWriter, n: int) -> None:
        created(writer, b'{"sid": "SM%d"}' % n)

    results, server = exchange(answer, 2, tls=tls_server(ca, "127.0.0.1"), client=trusting(ca))
    assert [json.loads(r.body)["sid"] for r in results] == ["SM0", "SM1"]
    assert [len(asked) for asked in server.connections] == [2]


@pytest.mark.parametrize("wrong", ["untrusted-ca", "other-host", "system-trust"])
def test_https_with_a_wrong_certificate_fails_before_sending(wrong: str) -> None:
    ca, other_ca = trustme.CA(), trustme.CA()
    host = "sms.example.org" if wrong == "other-host" else "127.0.0.1"
    client = {
        "untrusted-ca": trusting(other_ca),
        "other-host": trusting(ca),
        "system-trust": None,  # the pool's own default context, as in production
    }[wrong]

    async def answer(writer: asyncio.StreamWriter, n: int) -> None:
        created(writer, b"{}")

    async def run() -> Server:
        async with serve(answer, tls=tls_server(ca, host)) as server:
            with pytest.raises(ssl.SSLCertVerificationError):
                await post_times(server, 1, client)
            return server

    assert on_loop(run()).requests == []
