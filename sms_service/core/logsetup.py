"""Logging set-up: one line per event, with phone numbers masked and control characters escaped
before anything is written; readable text locally, one JSON object a line in production
(SMS_TIPS_LOG_FORMAT), and the id of the web request being served on each of its lines."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

from sms_service.core.phones import mask_in_text

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The service's own text lines: FORMAT with the request id, when there is one, after the name.
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"
# The id of the web request this code runs for (web/request_id.py sets it); None outside one.
# Threads the request hands work to (run_in_threadpool, to_thread) copy it.
REQUEST_ID: ContextVar[str | None] = ContextVar("sms_tips_request_id", default=None)
# Lines of a traceback start with this, so none of them can pass for a record of its own.
TRACEBACK_INDENT = "  "
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """`text` with every character Python would not print written as an escape ("\\n",
    "\\x00", "\\u2028"): control and format characters, line and paragraph separators, spaces
    other than the ASCII one. Log messages carry request fields verbatim (a MessageSid, a
    sender), so a newline there could forge a whole line and a NUL could corrupt the file.
    Backslashes stay as they are, so escaping twice changes nothing."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def _escape(char: str) -> str:
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def safe_log_text(text: str) -> str:
    """One line fit for the log: phone numbers masked, then control characters escaped (in
    that order: an escape such as "\\n" before a number would hide it from the masking)."""
    return escape_controls(mask_in_text(text))


def _safe_block(text: str) -> str:
    """A traceback or stack, still on several lines, each made safe and indented."""
    lines = text.rstrip("\n").split("\n")  # only "\n": any other line break is escaped
    return "\n".join(TRACEBACK_INDENT + safe_log_text(line) for line in lines)


class MaskPhones(logging.Filter):
    """Rewrite each record so that no phone number reaches a handler whole and no untrusted
    value can write a control character or a line of its own: the message is masked and
    escaped onto one line; a traceback keeps its lines, each masked, escaped and indented."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_sms_tips_safe", False):  # already rewritten by another handler
            return True
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: log them rather than fail
            message = f"{record.msg!s} {record.args!r}"
        record.msg = safe_log_text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _safe_block(record.exc_text)
        if record.stack_info:
            record.stack_info = _safe_block(record.stack_info)
        record._sms_tips_safe = True
        return True


class WithRequestId(logging.Filter):
    """Give each record the id of the request it was logged for (`request_id`, None outside
    a request) and `request_tag`, the same as " [id]" or "" for the text format."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = REQUEST_ID.get()
        record.request_id = request_id
        record.request_tag = f" [{request_id}]" if request_id else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id (in a
    request), exception (a traceback, its lines joined by newlines that JSON escapes). Fields
    are as MaskPhones left them: masked, escaped, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info and not record.exc_text:
            record.exc_text = _safe_block(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    """Send the service's logs to stderr with phone numbers masked and control characters
    escaped, as text lines or (log_format "json") JSON lines, each with its request id."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(MaskPhones())
    handler.addFilter(WithRequestId())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Twilio's HTTP client logs whole request bodies (numbers included) at INFO/DEBUG.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
