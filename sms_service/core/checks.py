"""A named check of a deployment and its finding, as /readyz and `sms-tips doctor` report it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One check: its name, whether it passed, and what it found (or what to fix)."""

    name: str
    ok: bool
    detail: str
