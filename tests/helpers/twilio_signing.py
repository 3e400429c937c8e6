"""Sign webhook requests exactly as Twilio does, written from Twilio's documentation.

Deliberately independent of twilio.request_validator, which the service uses to check them:
https://www.twilio.com/docs/usage/webhooks/webhooks-security
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping


def twilio_signature(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """HMAC-SHA1 over the full URL followed by each POST field name+value, sorted by name."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
