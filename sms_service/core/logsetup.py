"""Logging set-up: one line per event, with phone numbers masked and control characters escaped
before anything is written."""

from __future__ import annotations

import logging
import sys

from sms_service.core.phones import mask_in_text

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
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


def configure_logging(level: str = "INFO") -> None:
    """Send the service's logs to stderr with phone numbers masked and control characters
    escaped."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(MaskPhones())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Twilio's HTTP client logs whole request bodies (numbers included) at INFO/DEBUG.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
