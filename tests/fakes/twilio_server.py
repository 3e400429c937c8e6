"""A fake Twilio REST API (Messages create and list) on a loopback port, checked against the spec.

Runs an aiohttp server in its own thread and event loop, so it keeps up with a dispatcher at
thousands of requests per second. Every request is recorded; requests that the published
OpenAPI description (/work/shared/twilio-spec/twilio_api_v2010.json) would not accept are
answered 400 and kept in `violations`, so a test can assert the client spoke proper Twilio.
Faults (HTTP errors with Twilio error codes, Retry-After, hangs, connection resets) are
injected per recipient or for any request.

Run it alone (e.g. for a benchmark in another process):
    python -m tests.fakes.twilio_server --port 8787 --latency 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

from aiohttp import web

from tests.helpers.settings import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN

SPEC_PATH = Path("/work/shared/twilio-spec/twilio_api_v2010.json")
MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
_ACCOUNT = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_GSM7 = re.compile(
    r"^[A-Za-z0-9 \r\n@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,\-./:;<=>?¡ÄÖÑÜ§¿äöñüà"
    r"\^{}\\\[~\]|€]*$"
)
_RECEIVED = web.RequestKey("received", float)


@dataclass(frozen=True)
class Fault:
    """What to do instead of a normal answer.

    kind "error": answer `status` with a Twilio error body (`code`, `message`) and an optional
    Retry-After header; "hang": wait `delay` seconds, then create and answer normally (a slow
    Twilio; the client times out); "reset": drop the connection without an answer.
    `after_create` first creates the message (Twilio got it) and then misbehaves: the case
    only reconciliation can repair.
    """

    kind: Literal["error", "hang", "reset"] = "error"
    status: int = 500
    code: int | None = None
    message: str = "injected fault"
    retry_after: float | None = None
    delay: float = 0.0
    after_create: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it, and the status it answered."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    status: int
    at: datetime
    # time.monotonic() when the request arrived, before latency or faults: the moment it
    # reached Twilio, comparable with moments the test takes in its own process.
    received: float = 0.0


@dataclass
class _Rule:
    fault: Fault
    to: str | None
    remaining: int


@dataclass(frozen=True)
class _Spec:
    create_fields: dict[str, dict[str, Any]]
    required: frozenset[str]
    list_params: frozenset[str]
    message_keys: tuple[str, ...]
    account_pattern: re.Pattern[str]


@cache
def load_spec(path: Path = SPEC_PATH) -> _Spec:
    """The parts of Twilio's OpenAPI description that the fake checks requests against."""
    spec = json.loads(path.read_text())
    operations = spec["paths"][MESSAGES_PATH]
    schema = operations["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"][
        "schema"
    ]
    account = next(p for p in operations["get"]["parameters"] if p["name"] == "AccountSid")
    message = spec["components"]["schemas"]["api.v2010.account.message"]
    return _Spec(
        create_fields=schema["properties"],
        required=frozenset(schema.get("required", ())),
        list_params=frozenset(
            p["name"] for p in operations["get"]["parameters"] if p["in"] == "query"
        ),
        message_keys=tuple(message["properties"]),
        account_pattern=re.compile(account["schema"]["pattern"]),
    )


def _rfc2822(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


@cache
def _compiled(pattern: str | None) -> re.Pattern[str] | None:
    return re.compile(pattern) if pattern else None


def _segments(body: str) -> int:
    if _GSM7.match(body):
        return 1 if len(body) <= 160 else -(-len(body) // 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


def _date_filter(raw: str) -> datetime | date:
    """DateSent filters: Twilio documents YYYY-MM-DD; the SDK sends YYYY-MM-DDTHH:MM:SSZ."""
    if "T" in raw:
        return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return date.fromisoformat(raw)


def _on_or_after(sent: datetime, bound: datetime | date) -> bool:
    return sent >= bound if isinstance(bound, datetime) else sent.date() >= bound


def _day(bound: datetime | date) -> date:
    return bound.date() if isinstance(bound, datetime) else bound


def _before(sent: datetime, bound: datetime | date) -> bool:
    return sent < bound if isinstance(bound, datetime) else sent.date() <= bound


class FakeTwilio:
    """The fake server; use as a context manager, point the client at `url`."""

    def __init__(
        self,
        *,
        account_sid: str = TEST_ACCOUNT_SID,
        auth_token: str = TEST_AUTH_TOKEN,
        latency: float = 0.0,
        port: int = 0,
        record: bool = True,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.latency = latency
        self.record = record
        # Called in the server thread right after a message is created, before the answer.
        self.on_create: Callable[[dict[str, Any]], None] | None = None
        # The account's setup as `sms-tips doctor` reads it: numbers (E.164 -> SmsUrl) and
        # Messaging Services (SID -> their fields).
        self.account_status = "active"
        self.numbers: dict[str, str] = {}
        self.services: dict[str, dict[str, Any]] = {}
        self._port = port
        self._spec = load_spec()
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._list_faults: list[Fault] = []
        self._messages: list[dict[str, Any]] = []
        self._requests: list[RecordedRequest] = []
        self._violations: list[str] = []
        self._segments = 0
        self._created = 0
        self._in_flight = 0
        self._peak_in_flight = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._startup_error: BaseException | None = None

    # -- life cycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to give the Twilio client (`client.api.base_url`)."""
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> FakeTwilio:
        """Serve in a background thread; returns once the port is bound."""
        self._thread = threading.Thread(target=self._serve, name="fake-twilio", daemon=True)
        self._thread.start()
        self._started.wait(10)
        if self._startup_error is not None:
            raise RuntimeError("the fake Twilio server did not start") from self._startup_error
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        loop, runner = self._loop, self._runner
        if loop is not None and runner is not None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._bind())
        except BaseException as error:  # reported to start() in the calling thread
            self._startup_error = error
            self._started.set()
            loop.close()
            return
        self._started.set()
        loop.run_forever()
        loop.close()

    async def _bind(self) -> None:
        self._runner = build_runner(self)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    # -- test controls ----------------------------------------------------------------------

    def add_fault(self, fault: Fault, *, to: str | None = None, times: int = 1) -> None:
        """Answer the next `times` creates (to `to`, or to anyone) with `fault`."""
        with self._lock:
            self._rules.append(_Rule(fault=fault, to=to, remaining=times))

    def clear_faults(self) -> None:
        """Answer every later create and list normally."""
        with self._lock:
            self._rules.clear()
            self._list_faults.clear()

    def fail_lists(self, fault: Fault, *, times: int = 1) -> None:
        """Answer the next `times` message list queries with `fault` (kind "error" only)."""
        with self._lock:
            self._list_faults.extend([fault] * times)

    def add_message(
        self, *, to: str, body: str, sent_at: datetime | None = None, queued: bool = False
    ) -> str:
        """Put a message in the account's history as if sent earlier; returns its SID.

        `queued`: still in Twilio's queue, so it has no date_sent and DateSent filters skip it.
        """
        message = self._new_message({"To": to, "Body": body}, sent_at or datetime.now(UTC))
        if queued:
            message.update(date_sent=None, _sent=None)
        with self._lock:
            self._messages.append(message)
        return str(message["sid"])

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every message created (oldest first), as Twilio's API shows them."""
        with self._lock:
            return list(self._messages)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def violations(self) -> list[str]:
        """Requests the real Twilio API would not accept, described."""
        with self._lock:
            return list(self._violations)

    def sent_to(self, number: str) -> list[dict[str, Any]]:
        """The messages created for one recipient."""
        return [message for message in self.messages if message["to"] == number]

    @property
    def in_flight(self) -> int:
        """Requests received and not yet answered (hanging, slow, or being reset)."""
        with self._lock:
            return self._in_flight

    @property
    def peak_in_flight(self) -> int:
        """The most requests that were in flight at once."""
        with self._lock:
            return self._peak_in_flight

    def wait_until_answered(self, timeout: float = 30.0) -> None:
        """Block until every request received has been answered (or dropped)."""
        deadline = time.monotonic() + timeout
        while self.in_flight:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.in_flight} requests still unanswered")
            time.sleep(0.01)

    def stats(self) -> dict[str, int]:
        """Counts, cheap even when recording is off (benchmarks)."""
        with self._lock:
            return {"messages": self._created, "segments": self._segments}

    # -- request handling -------------------------------------------------------------------

    def _check_auth(self, request: web.Request, account: str) -> str | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return "no HTTP basic auth"
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        if user != self.account_sid or password != self.auth_token or account != user:
            return "wrong account SID or auth token"
        return None

    def _check_create(self, form: dict[str, str]) -> str | None:
        fields = self._spec.create_fields
        unknown = sorted(set(form) - set(fields))
        if unknown:
            return f"fields not in the spec: {unknown}"
        missing = sorted(self._spec.required - set(form))
        if missing:
            return f"required fields missing: {missing}"
        for name, value in form.items():
            schema = fields[name]
            pattern = _compiled(schema.get("pattern"))
            if pattern is not None and not pattern.match(value):
                return f"{name} does not match {pattern.pattern}"
            if schema.get("format") == "phone-number" and not _E164.match(value):
                return f"{name} is not an E.164 phone number"
            if schema.get("format") == "uri" and not value.startswith(("http://", "https://")):
                return f"{name} is not a URL"
        if "From" not in form and "MessagingServiceSid" not in form:
            return "neither From nor MessagingServiceSid"
        if not any(name in form for name in ("Body", "MediaUrl", "ContentSid")):
            return "no Body, MediaUrl or ContentSid"
        return None

    def _take_fault(self, to: str) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if rule.remaining > 0 and rule.to in (None, to):
                    rule.remaining -= 1
                    return rule.fault
        return None

    def _new_message(self, form: dict[str, str], now: datetime) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        stamp = _rfc2822(now)
        base = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        values: dict[str, Any] = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": stamp,
            "date_sent": stamp,
            "date_updated": stamp,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": str(_segments(form.get("Body", ""))),
            "price": None,
            "price_unit": None,
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{base}/Media.json"},
            "to": form["To"],
            "uri": f"{base}.json",
            "_sent": now,
        }
        return values

    def _public(self, message: dict[str, Any]) -> dict[str, Any]:
        return {key: message[key] for key in self._spec.message_keys if key in message}

    def _log(self, request: web.Request, form: dict[str, str], status: int) -> None:
        if self.record:
            entry = RecordedRequest(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                form=form,
                status=status,
                at=datetime.now(UTC),
                received=request.get(_RECEIVED, time.monotonic()),
            )
            with self._lock:
                self._requests.append(entry)

    def _violation(self, request: web.Request, form: dict[str, str], problem: str) -> web.Response:
        with self._lock:
            self._violations.append(f"{request.method} {request.path}: {problem}")
        self._log(request, form, 400)
        return _error(400, 20001, f"fake Twilio: {problem}")

    async def create_message(self, request: web.Request) -> web.StreamResponse:
        """POST Messages.json: create a message (or play the injected fault)."""
        form = {name: str(value) for name, value in (await request.post()).items()}
        account = request.match_info["account"]
        if not self._spec.account_pattern.match(account):
            return self._violation(request, form, "AccountSid does not match the spec")
        problem = self._check_auth(request, account)
        if problem is not None:
            self._log(request, form, 401)
            return _error(401, 20003, f"Authenticate ({problem})")
        problem = self._check_create(form)
        if problem is not None:
            return self._violation(request, form, problem)
        if self.latency:
            await asyncio.sleep(self.latency)
        fault = self._take_fault(form["To"])
        if fault is not None and fault.kind == "hang" and not fault.after_create:
            await asyncio.sleep(fault.delay)  # a slow Twilio: it still creates the message
            fault = None
        if fault is not None and not fault.after_create:
            return await self._play(request, form, fault)
        body = form.get("Body", "")
        if len(body) > 1600:
            self._log(request, form, 400)
            return _error(400, 21617, "The concatenated message body exceeds the 1600 limit")
        message = self._new_message(form, datetime.now(UTC))
        with self._lock:
            self._created += 1
            self._segments += int(message["num_segments"])
            if self.record:
                self._messages.append(message)
        if self.on_create is not None:
            self.on_create(message)
        if fault is not None:
            return await self._play(request, form, fault, message)
        self._log(request, form, 201)
        return web.json_response(self._public(message), status=201)

    async def _play(
        self,
        request: web.Request,
        form: dict[str, str],
        fault: Fault,
        message: dict[str, Any] | None = None,
    ) -> web.Response:
        if fault.kind == "reset":
            self._log(request, form, 0)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # nothing may be written on the dropped connection
        if fault.kind == "hang" and message is not None:  # created; the answer comes too late
            await asyncio.sleep(fault.delay)
            self._log(request, form, 201)
            return web.json_response(self._public(message), status=201)
        self._log(request, form, fault.status)
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        return _error(fault.status, fault.code, fault.message, headers)

    async def list_messages(self, request: web.Request) -> web.Response:
        """GET Messages.json: newest first, filtered by To, From and DateSent (=, <, >)."""
        account = request.match_info["account"]
        query = dict(request.query)
        unknown = sorted(set(query) - self._spec.list_params)
        if unknown:
            return self._violation(request, {}, f"query parameters not in the spec: {unknown}")
        problem = self._check_auth(request, account)
        if problem is not None:
            self._log(request, {}, 401)
            return _error(401, 20003, f"Authenticate ({problem})")
        with self._lock:
            fault = self._list_faults.pop(0) if self._list_faults else None
        if fault is not None:
            self._log(request, {}, fault.status)
            return _error(fault.status, fault.code, fault.message)
        try:
            after = _date_filter(query["DateSent>"]) if "DateSent>" in query else None
            before = _date_filter(query["DateSent<"]) if "DateSent<" in query else None
            on = _date_filter(query["DateSent"]) if "DateSent" in query else None
        except ValueError:
            return self._violation(request, {}, "DateSent is not a date")
        if self.latency:
            await asyncio.sleep(self.latency)
        found = []
        for message in reversed(self.messages):
            sent: datetime | None = message["_sent"]
            if sent is None and (after or before or on):
                continue
            if "To" in query and message["to"] != query["To"]:
                continue
            if "From" in query and message["from"] != query["From"]:
                continue
            if sent is not None and after is not None and not _on_or_after(sent, after):
                continue
            if sent is not None and before is not None and not _before(sent, before):
                continue
            if on is not None and sent is not None and sent.date() != _day(on):
                continue
            found.append(self._public(message))
        size = min(int(query.get("PageSize", "50")), 1000)
        page = found[:size]
        uri = request.path_qs
        self._log(request, {}, 200)
        return web.json_response(
            {
                "messages": page,
                "end": max(len(page) - 1, 0),
                "first_page_uri": uri,
                "next_page_uri": None,
                "page": 0,
                "page_size": size,
                "previous_page_uri": None,
                "start": 0,
                "uri": uri,
            }
        )

    async def fetch_account(self, request: web.Request) -> web.Response:
        """GET Accounts/{sid}.json: the account, if these are its credentials."""
        problem = self._check_auth(request, request.match_info["account"])
        if problem is not None:
            return _error(401, 20003, f"Authenticate ({problem})")
        account = {"sid": self.account_sid, "friendly_name": "Fake account"}
        return web.json_response({**account, "status": self.account_status})

    async def list_numbers(self, request: web.Request) -> web.Response:
        """GET IncomingPhoneNumbers.json, filtered by PhoneNumber."""
        problem = self._check_auth(request, request.match_info["account"])
        if problem is not None:
            return _error(401, 20003, f"Authenticate ({problem})")
        wanted = request.query.get("PhoneNumber")
        numbers = [
            {"sid": "PN" + f"{index:032x}", "phone_number": number, "sms_url": url}
            for index, (number, url) in enumerate(sorted(self.numbers.items()))
            if wanted in (None, number)
        ]
        return web.json_response(
            {"incoming_phone_numbers": numbers, "page": 0, "page_size": 50, "next_page_uri": None}
        )

    async def fetch_service(self, request: web.Request) -> web.Response:
        """GET messaging v1 Services/{sid}."""
        problem = self._check_auth(request, self.account_sid)  # no account in the path
        if problem is not None:
            return _error(401, 20003, f"Authenticate ({problem})")
        service = self.services.get(request.match_info["sid"])
        if service is None:
            return _error(404, 20404, "The requested resource was not found")
        return web.json_response({"sid": request.match_info["sid"], **service})

    async def stats_view(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    @web.middleware
    async def tracking(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Stamps each request's arrival and counts it in flight until it is answered."""
        request[_RECEIVED] = time.monotonic()
        with self._lock:
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
        try:
            return await handler(request)
        finally:
            with self._lock:
                self._in_flight -= 1


def _error(
    status: int, code: int | None, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(body, status=status, headers=headers)


def build_runner(fake: FakeTwilio) -> web.AppRunner:
    """The aiohttp app of `fake`, ready to bind."""
    app = web.Application(middlewares=[fake.tracking])
    path = "/2010-04-01/Accounts/{account}/Messages.json"
    app.router.add_post(path, fake.create_message)
    app.router.add_get(path, fake.list_messages)
    app.router.add_get("/_fake/stats", fake.stats_view)
    app.router.add_get("/2010-04-01/Accounts/{account}.json", fake.fetch_account)
    numbers = "/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json"
    app.router.add_get(numbers, fake.list_numbers)
    app.router.add_get("/v1/Services/{sid}", fake.fetch_service)
    return web.AppRunner(app, access_log=None, shutdown_timeout=0.5)


def main() -> None:
    """Serve until interrupted, printing the URL (benchmarks run it in its own process)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    args = parser.parse_args()
    fake = FakeTwilio(port=args.port, latency=args.latency, record=False)
    fake.start()
    print(fake.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
