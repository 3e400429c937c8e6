from __future__ import annotations

import logging

import pytest

from sms_service.core.logsetup import MaskPhones
from sms_service.core.phones import mask, mask_in_text, timezone_for, to_e164, us_state_for


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+13055551234", "+13055551234"),
        ("(305) 555-1234", "+13055551234"),
        ("305.555.1234", "+13055551234"),
        ("+52 55 1234 5678", "+525512345678"),
        ("hello", None),
        ("", None),
        ("12345", None),
    ],
)
def test_to_e164(raw: str, expected: str | None) -> None:
    assert to_e164(raw) == expected


def test_mask_keeps_only_last_four_digits() -> None:
    assert mask("+13055551234") == "***1234"
    assert mask(None) == "<none>"
    assert mask_in_text("from +13055551234 to +12125550000") == "from ***1234 to ***0000"


def test_masking_leaves_addresses_and_times_alone() -> None:
    line = "GET /healthz from 127.0.0.1:8000 at 2026-11-26 16:26:45"
    assert mask_in_text(line) == line


@pytest.mark.parametrize(
    ("phone", "zone", "state"),
    [
        ("+13055551234", "America/New_York", "FL"),
        ("+12125551234", "America/New_York", "NY"),
        ("+16015551234", "America/Chicago", "MS"),
        ("+15035551234", "America/Los_Angeles", "OR"),
        ("+18005551234", "America/Denver", None),  # toll-free: no area, program default
    ],
)
def test_area_code_gives_zone_and_state(phone: str, zone: str, state: str | None) -> None:
    assert timezone_for(phone, default="America/Denver") == zone
    assert us_state_for(phone) == state


def test_log_records_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.masking")
    logger.addFilter(MaskPhones())
    try:
        with caplog.at_level(logging.INFO):
            logger.info("reply to %s", "+13055551234")
    finally:
        logger.filters.clear()
    assert "+13055551234" not in caplog.text
    assert "***1234" in caplog.text
