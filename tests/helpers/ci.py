"""What a test does when something it needs is missing: skip locally, fail on CI."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(problem: str, *, ci_must: str) -> NoReturn:
    """Skip for `problem`; with CI=true fail instead, saying what CI must test."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem}; CI must {ci_must}", pytrace=False)
    pytest.skip(problem)
