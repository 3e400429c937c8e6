"""Sizes of the reliability proofs: short by default, long with SMS_TIPS_RELIABILITY=long."""

from __future__ import annotations

import os


def scaled(short: int, long: int) -> int:
    """`long` when SMS_TIPS_RELIABILITY=long, else `short`."""
    return long if os.environ.get("SMS_TIPS_RELIABILITY") == "long" else short
