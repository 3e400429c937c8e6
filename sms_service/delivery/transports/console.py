"""The local transport: prints each text to stdout instead of sending it."""

from __future__ import annotations

import sys
import uuid
from datetime import datetime
from typing import TextIO

from sms_service.core.phones import mask
from sms_service.delivery.transports.base import SendResult


class ConsoleTransport:
    """Prints texts (number masked) and remembers them, so reconciliation finds them again."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._sent: list[tuple[str, str, datetime, str]] = []

    async def send(
        self, *, to: str, body: str, status_callback: str | None, sender: str | None = None
    ) -> SendResult:
        """Print the text and answer a console SID."""
        sid = f"CONSOLE-{uuid.uuid4().hex}"
        stream = self._stream if self._stream is not None else sys.stdout
        print(f"--- SMS to {mask(to)} ({sid})\n{body}\n---", file=stream, flush=True)
        self._sent.append((to, body, datetime.now().astimezone(), sid))
        return SendResult(sid=sid, status="sent")

    async def find_sent(self, *, to: str, body: str, since: datetime) -> str | None:
        """The SID of a text this process printed; a restarted process has printed nothing."""
        for number, text, when, sid in reversed(self._sent):
            if number == to and text == body and when >= since:
                return sid
        return None

    async def aclose(self) -> None:
        """Nothing to release."""
