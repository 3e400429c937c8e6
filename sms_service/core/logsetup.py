"""Logging set-up: one line per event, with phone numbers masked before anything is written."""

from __future__ import annotations

import logging
import sys

from sms_service.core.phones import mask_in_text

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class MaskPhones(logging.Filter):
    """Rewrite each record so that no phone number reaches a handler whole."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_in_text(record.getMessage())
        record.args = None
        return True


def configure_logging(level: str = "INFO") -> None:
    """Send the service's logs to stderr with phone numbers masked."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(MaskPhones())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Twilio's HTTP client logs whole request bodies (numbers included) at INFO/DEBUG.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
