"""Twilio's delivery error codes in words staff understand (shown on timelines and reports)."""

from __future__ import annotations

# https://www.twilio.com/docs/api/errors: the codes families' texts actually meet.
ERROR_WORDS = {
    "21211": "not a valid phone number",
    "21408": "this country is not enabled on the account",
    "21610": "the number unsubscribed at the carrier (texted STOP)",
    "21612": "the carrier cannot route texts to this number",
    "21614": "not a mobile number",
    "30001": "Twilio's queue was full",
    "30003": "unreachable: the phone is off or out of coverage",
    "30004": "blocked by the recipient",
    "30005": "unknown number: it may no longer exist",
    "30006": "a landline, or a carrier that cannot take texts",
    "30007": "filtered by the carrier as spam",
    "30008": "unknown error at the carrier",
}


def in_words(code: str | None) -> str:
    """`code` with what it means ("30006: a landline, ..."), or "" for no code."""
    if not code:
        return ""
    words = ERROR_WORDS.get(code)
    return f"{code}: {words}" if words else f"error {code}"
