"""Phone numbers: parse to E.164, mask for logs, guess time zone and US state from the number."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from argon2.low_level import Type, hash_secret_raw
from phonenumbers import geocoder
from phonenumbers import timezone as phone_timezone

_US_STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH",
    "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY", "Washington D.C.": "DC",
    "District of Columbia": "DC", "Puerto Rico": "PR",
}  # fmt: skip
_STATE_CODES = frozenset(_US_STATES.values())
# A phone number inside free text (10-15 digits, optionally +, spaces, dashes, parentheses),
# but not part of an IP address, a time or an identifier such as a Twilio SID.
_PHONE_IN_TEXT = re.compile(r"(?<![\w.:/])\+?\(?\d(?:[ \-()]{0,2}\d){9,14}(?![\w:/]|\.\d)")


# Parsing with phonenumbers costs tens of microseconds a call and a webhook asks several
# times: the same senders text again and again, so their answers are kept (pure functions).
_CACHED = 65536


@lru_cache(maxsize=_CACHED)
def to_e164(raw: str, default_region: str = "US") -> str | None:
    """The number in E.164 form, or None when `raw` is not a valid phone number."""
    try:
        number = phonenumbers.parse(raw.strip(), default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(phone: str | None) -> str:
    """A phone number safe for logs: only the last four digits survive."""
    if not phone:
        return "<none>"
    digits = re.sub(r"\D", "", phone)
    if len(digits) <= 4:
        return "***"
    return "***" + digits[-4:]


def mask_in_text(text: str) -> str:
    """`text` with every phone-number-like run of digits masked."""
    return _PHONE_IN_TEXT.sub(lambda match: mask(match.group(0)), text)


# Phone numbers are few enough (about 10^10) that a fast digest such as SHA-256 of each one
# can be tabulated in hours. Argon2id at OWASP's minimum (19 MiB, 2 passes: about 30 ms here)
# makes tabulating every number cost years of CPU, while checking one number stays cheap.
# The salt is fixed on purpose: a lookup must find the row from the number alone, and a key
# (a pepper) would silently stop matching if it were ever rotated.
_SUPPRESSION_SALT = b"sms-tips/suppression/v1"


def phone_hash(phone: str) -> str:
    """A stable, slow one-way digest of an E.164 number, for records that outlive the number."""
    digest = hash_secret_raw(
        phone.encode("ascii"),
        _SUPPRESSION_SALT,
        time_cost=2,
        memory_cost=19 * 1024,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
    )
    return digest.hex()


@lru_cache(maxsize=_CACHED)
def timezone_for(phone: str, default: str) -> str:
    """The IANA time zone of the number's area code, or `default` when it is ambiguous."""
    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return default
    zones = phone_timezone.time_zones_for_number(number)
    if len(zones) != 1 or zones[0] == phone_timezone.UNKNOWN_TIMEZONE:
        return default
    return str(zones[0])


@lru_cache(maxsize=_CACHED)
def us_state_for(phone: str) -> str | None:
    """The two-letter US state (or DC, PR) of the number's area code, when it names one."""
    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 1:
        return None
    description = str(geocoder.description_for_number(number, "en"))
    if description in _US_STATES:
        return _US_STATES[description]
    _, _, suffix = description.rpartition(", ")
    return suffix if suffix in _STATE_CODES else None
