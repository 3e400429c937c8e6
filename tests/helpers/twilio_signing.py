"""Sign webhook requests exactly as Twilio does, written from Twilio's documentation.

Deliberately independent of twilio.request_validator, which the service uses to check them:
https://www.twilio.com/docs/usage/webhooks/webhooks-security
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping


def twilio_signature(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """HMAC-SHA1 over the full URL followed by each POST field name+value, sorted by name."""
    return signature_of_fields(url, params.items(), auth_token)


def signature_of_fields(url: str, fields: Iterable[tuple[str, str]], auth_token: str) -> str:
    """`twilio_signature` for a form that may repeat a field: a name's distinct values are
    signed in order, each after the name."""
    values: dict[str, set[str]] = {}
    for name, value in fields:
        values.setdefault(name, set()).add(value)
    payload = url + "".join(
        name + value for name in sorted(values) for value in sorted(values[name])
    )
    digest = hmac.new(auth_token.encode(), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
