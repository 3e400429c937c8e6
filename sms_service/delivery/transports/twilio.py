"""The Twilio transport: creates over a lean HTTP/1.1 pool, lists via the SDK over aiohttp.

Classification (https://www.twilio.com/docs/api/errors):
- retry later: HTTP 429 / 20429 (too many requests), 21611 (the From number's queue is full),
  30001 (queue overflow), any 5xx, timeouts and connection errors; Retry-After is honoured.
  A timeout, a dropped connection or a 5xx may come AFTER Twilio created the message, so those
  raise AmbiguousSend: the dispatcher reconciles (asks Twilio) before sending again.
- 21610: the recipient replied STOP (RecipientUnsubscribed).
- 21211 invalid 'To', 21612 'To' not reachable by SMS, 21614 'To' is not a mobile number
  (landline), 21407 / 21408 are NOT here: those are our account's geographic permissions, not the
  caregiver's number (UndeliverableNumber for the first three).
- anything else: PermanentSend with Twilio's code and message kept.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from urllib.parse import urlencode

import aiohttp
from twilio import __version__ as twilio_version
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from sms_service.core.errors import PermanentSend, RetryableSend
from sms_service.core.phones import mask
from sms_service.core.settings import Settings
from sms_service.delivery.transports.base import (
    RecipientUnsubscribed,
    SendResult,
    UndeliverableNumber,
)
from sms_service.delivery.transports.http1 import KeepAlivePool

logger = logging.getLogger(__name__)

RETRYABLE_CODES = frozenset({20429, 21611, 30001})
UNSUBSCRIBED_CODES = frozenset({21610})
UNDELIVERABLE_CODES = frozenset({21211, 21612, 21614})
# Twilio stores send times to the second and clocks drift: look a little before the claim.
CLOCK_SLACK = timedelta(minutes=2)
USER_AGENT = f"sms-tips twilio-python/{twilio_version}"


class AmbiguousSend(RetryableSend):
    """The request may have reached Twilio (timeout, reset, 5xx): reconcile before resending."""


class _PooledHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Twilio's aiohttp client with a bounded pool, real timeouts and Retry-After surfaced.

    The SDK's own client creates its session at construction (outside any event loop), passes
    the timeout as a bare float and drops the response headers before raising, so Retry-After
    would be lost; this subclass keeps the SDK's request path and fixes those three things.
    """

    def __init__(self, *, timeout: float, max_connections: int) -> None:
        super().__init__(pool_connections=False, timeout=timeout)
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._auth_header: tuple[tuple[str, str], str] | None = None

    def _client_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=300)
            # Per-socket limits, not a total: waiting for a pooled connection is not a timeout.
            timeout = aiohttp.ClientTimeout(
                total=None, sock_connect=self.timeout, sock_read=self.timeout
            )
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout)
        return self._session

    def _authorization(self, auth: tuple[str, str]) -> str:
        if self._auth_header is None or self._auth_header[0] != auth:
            self._auth_header = (auth, aiohttp.encode_basic_auth(auth[0], auth[1]))
        return self._auth_header[1]

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        sent_headers = dict(headers or {})
        if auth is not None:
            sent_headers["Authorization"] = self._authorization(auth)
        body = None
        if data:
            # Encoded here: aiohttp's FormData path costs more CPU than the rest of the request.
            body = urlencode(data, doseq=True).encode()
            sent_headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            async with self._client_session().request(
                method.upper(),
                url,
                params={name: str(value) for name, value in params.items()} if params else None,
                data=body,
                headers=sent_headers,
                allow_redirects=allow_redirects,
            ) as response:
                text = await response.text()
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except (TimeoutError, aiohttp.ClientError) as error:
            # A GET (reconciliation) has nothing ambiguous about it, but retrying is still right.
            raise AmbiguousSend(f"no answer from Twilio: {type(error).__name__}") from error
        _raise_if_busy(status, text, retry_after)
        return Response(status, text)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _raise_if_busy(status: int, text: str, retry_after: str | None) -> None:
    """429 and 5xx as RetryableSend (5xx: AmbiguousSend), with Retry-After kept."""
    if status == 429 or status >= 500:
        code, message = _error_fields(text)
        error_class = AmbiguousSend if status >= 500 else RetryableSend
        raise error_class(
            message or f"Twilio answered HTTP {status}",
            code=code,
            status=status,
            retry_after=_seconds(retry_after),
        )


def _error_fields(text: str) -> tuple[int | None, str | None]:
    try:
        payload = json.loads(text)
    except ValueError:
        return None, None
    if not isinstance(payload, dict):
        return None, None
    code = payload.get("code")
    message = payload.get("message")
    return (code if isinstance(code, int) else None, str(message) if message else None)


def _seconds(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        return None  # an HTTP date; rare from Twilio, and backoff still applies


def translate(error: TwilioRestException) -> RetryableSend | PermanentSend:
    """Twilio's exception as one of the service's named send errors."""
    code = error.code if isinstance(error.code, int) else None
    message = str(error.msg or "Twilio rejected the message")
    status = error.status if isinstance(error.status, int) else None
    if code in RETRYABLE_CODES or status == 429:
        return RetryableSend(message, code=code, status=status)
    if status is not None and status >= 500:
        return AmbiguousSend(message, code=code, status=status)
    if code in UNSUBSCRIBED_CODES:
        return RecipientUnsubscribed(message, code=code, status=status)
    if code in UNDELIVERABLE_CODES:
        return UndeliverableNumber(message, code=code, status=status)
    return PermanentSend(message, code=code, status=status)


# What quote_plus makes of each byte of a UTF-8 text (a test holds the two equal).
_FORM_BYTES = {
    byte: "+" if byte == 0x20 else f"%{byte:02X}"
    for byte in range(256)
    if chr(byte) not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
}


def form_value(value: str) -> str:
    """`value` encoded for a form body, as urllib.parse.quote_plus does, in one C call
    (quote_plus escapes byte by byte in Python: urlencode cost a send 11.6 us, this 2.2)."""
    return value.encode().decode("latin-1").translate(_FORM_BYTES)


def sender_fields(sender: str) -> dict[str, str]:
    """The Messages API field of a partner's own sender: a Messaging Service SID or a number."""
    return {"MessagingServiceSid" if sender.startswith("MG") else "From": sender}


class TwilioTransport:
    """Sends through Twilio's Messages API from the Messaging Service (or the From number)."""

    def __init__(
        self,
        settings: Settings,
        *,
        api_base_url: str | None = None,
        timeout: float = 15.0,
        max_connections: int | None = None,
    ) -> None:
        if settings.twilio_account_sid is None or settings.twilio_auth_token is None:
            raise ValueError("TwilioTransport needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        self._http = _PooledHttpClient(
            timeout=timeout, max_connections=max_connections or settings.dispatch_concurrency
        )
        self._client = Client(
            settings.twilio_account_sid, str(settings.twilio_auth_token), http_client=self._http
        )
        api_base_url = api_base_url or settings.twilio_api_base_url
        if api_base_url is not None:
            self._client.api.base_url = api_base_url.rstrip("/")
            logger.warning("texts go to the Messages API at %s, not to Twilio", api_base_url)
        self._account_sid = settings.twilio_account_sid
        # Creating messages, the hot path, goes through a lean HTTP/1.1 pool (http1.py); the
        # SDK's client (aiohttp) stays for the rare list queries of reconciliation.
        self._create_path = f"/2010-04-01/Accounts/{self._account_sid}/Messages.json"
        self._create_url = f"{self._client.api.base_url}{self._create_path}"
        self._pool = KeepAlivePool(
            self._client.api.base_url,
            max_connections=max_connections or settings.dispatch_concurrency,
            timeout=timeout,
        )
        self._create_headers = (
            "Authorization: "
            + aiohttp.encode_basic_auth(self._account_sid, str(settings.twilio_auth_token))
            + f"\r\nUser-Agent: {USER_AGENT}\r\nAccept: application/json\r\n"
            "Accept-Charset: utf-8\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        )
        self._sender: dict[str, str] = (
            {"MessagingServiceSid": settings.twilio_messaging_service_sid}
            if settings.twilio_messaging_service_sid
            else {"From": str(settings.twilio_from_number)}
        )
        # The sender and callback fields of a form, encoded once per (sender, callback).
        self._fixed_fields: dict[tuple[str | None, str | None], str] = {}

    async def send(
        self, *, to: str, body: str, status_callback: str | None, sender: str | None = None
    ) -> SendResult:
        """Create the message at Twilio; raise RetryableSend / PermanentSend when refused.

        Only the SID and status are read from the JSON answer: building the SDK's
        MessageInstance, with its three RFC 2822 dates, was a fifth of the CPU a send cost.
        """
        fixed = self._fixed_fields.get((sender, status_callback))
        if fixed is None:
            fields = sender_fields(sender) if sender else self._sender
            if status_callback is not None:
                fields = {**fields, "StatusCallback": status_callback}
            fixed = self._fixed_fields[sender, status_callback] = "&" + urlencode(fields)
        form = f"To={form_value(to)}&Body={form_value(body)}{fixed}"
        try:
            answer = await self._pool.post(self._create_path, form.encode(), self._create_headers)
        except (TimeoutError, OSError) as error:
            raise AmbiguousSend(f"no answer from Twilio: {type(error).__name__}") from error
        status, text = answer.status, answer.body.decode("utf-8", "replace")
        _raise_if_busy(status, text, answer.headers.get("retry-after"))
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        if status == 201 and isinstance(payload, dict) and payload.get("sid"):
            return SendResult(sid=str(payload["sid"]), status=str(payload.get("status", "")))
        if 200 <= status < 300:  # accepted, but we cannot tell the SID
            raise AmbiguousSend(f"unreadable answer from Twilio (HTTP {status})")
        code, message = _error_fields(text)
        refusal = TwilioRestException(
            status,
            self._create_url,
            msg=message or f"Twilio answered HTTP {status}",
            code=code,
            method="POST",
        )
        logger.info("Twilio refused a text to %s: %s %s", mask(to), refusal.code, refusal.msg)
        raise translate(refusal)

    async def find_sent(self, *, to: str, body: str, since: datetime) -> str | None:
        """The SID of a message with this body that Twilio has for `to` since `since`.

        DateSent filters work on whole (UTC) days, and a message still queued at Twilio has no
        date_sent yet, so this asks twice: sent since the claim's day, then the newest messages
        to that number whatever their state; the body and creation time decide the match.
        """
        earliest = since - CLOCK_SLACK
        day = earliest.replace(hour=0, minute=0, second=0, microsecond=0)
        try:
            for filters in ({"date_sent_after": day}, {}):
                messages = await self._client.messages.list_async(to=to, limit=50, **filters)
                for message in messages:
                    created = message.date_created or message.date_sent
                    if message.body == body and created is not None and created >= earliest:
                        return str(message.sid)
        except TwilioRestException as error:
            raise translate(error) from None
        except asyncio.CancelledError:
            raise
        return None

    async def aclose(self) -> None:
        """Close the connection pools."""
        await self._pool.close()
        await self._http.close()
