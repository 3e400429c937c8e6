"""The sizes of the reliability proofs: short in the default suite, the issue's full scale with
SMS_TIPS_RELIABILITY=long (`make reliability`)."""

from __future__ import annotations

import os


def scaled(short: int, long: int) -> int:
    """`long` when SMS_TIPS_RELIABILITY=long, otherwise `short`."""
    return long if os.environ.get("SMS_TIPS_RELIABILITY") == "long" else short
