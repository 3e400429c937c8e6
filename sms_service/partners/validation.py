"""The fields of a partner: what each may hold, and the problems of a value that may not."""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from content.catalogs import LONGEST_CONTACT, LONGEST_PARTNER
from content.segments import analyze, describe_char
from sms_service.core.phones import to_e164

# Texts name the partner and its help contact: the catalog checker proves every message fits
# its segments with values this long, so no partner may have longer ones.
MAX_NAME = len(LONGEST_PARTNER)
MAX_CONTACT = len(LONGEST_CONTACT)
MAX_RESOURCES = 1000
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-f]{32}$", re.IGNORECASE)


@dataclass(frozen=True)
class PartnerFields:
    """Values to set on a partner; None leaves a field as it is (on create: not given)."""

    name: str | None = None
    slug: str | None = None
    sender: str | None = None  # "" clears it
    help_contact: str | None = None  # "" clears it
    timezone: str | None = None  # "" clears it
    local_resources: str | None = None


def one_line(value: str) -> str:
    """`value` with runs of whitespace made one space, trimmed."""
    return " ".join(value.split())


def name_problem(name: str) -> str | None:
    if not name:
        return "a partner needs a name"
    if len(name) > MAX_NAME:
        return f"the name is {len(name)} characters; texts name it, so at most {MAX_NAME}"
    info = analyze(name)
    if info.non_gsm:
        # The catalog checker proves the texts fit with a GSM-7 name; one character outside
        # it (é, an emoji) makes a whole text UCS-2, at 70 characters a segment.
        odd = ", ".join(describe_char(char) for char in info.non_gsm)
        return f"the name has {odd}, which would make the texts naming it cost double"
    return None


def slug_problem(slug: str) -> str | None:
    if not SLUG.match(slug):
        return (
            f"the slug {slug!r} must be 2 to 40 lower-case letters, digits or dashes "
            "(it names the partner in addresses and commands)"
        )
    return None


def normal_sender(raw: str) -> str | tuple[None, str]:
    """A sender as stored (E.164, or an MG... SID), or (None, the problem)."""
    value = raw.strip()
    if MESSAGING_SERVICE_SID.match(value):
        return "MG" + value[2:].lower()
    phone = to_e164(value) if value.startswith("+") else None
    if phone is None:
        return (
            None,
            f"the sender {value!r} is neither a phone number in +1... form nor a Twilio "
            "Messaging Service SID (MG and 32 hex digits)",
        )
    return phone


def contact_problem(contact: str) -> str | None:
    if len(contact) > MAX_CONTACT:
        return (
            f"the help contact is {len(contact)} characters; HELP names it, so at most "
            f"{MAX_CONTACT}"
        )
    return None


def timezone_problem(zone: str) -> str | None:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{zone!r} is not a time zone (use a name like America/Chicago)"
    return None


def resources_problem(text: str) -> str | None:
    if len(text) > MAX_RESOURCES:
        return f"the local resources are {len(text)} characters; at most {MAX_RESOURCES}"
    return None
