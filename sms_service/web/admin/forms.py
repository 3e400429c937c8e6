"""Reading admin forms into domain values, with clear errors for bad input."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from starlette.datastructures import FormData

from content.library import LANGUAGES
from sms_service.campaigns.audience import Audience, AudienceError
from sms_service.campaigns.authoring import MAX_MESSAGES, CampaignError, MessageDraft

_SLOT = re.compile(r"^send_at_(\d+)$")


def text_field(form: FormData, name: str, limit: int, *, strip: bool = True) -> str:
    """A text field (empty when missing or not text), cut to `limit` characters."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return (value.strip() if strip else value)[:limit]


def query_number(raw: str | None, *, maximum: int = 2**31 - 1) -> int | None:
    """A whole number from a query string: ASCII digits only, at most `maximum` (else None)."""
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > len(str(maximum)):
        return None
    number = int(raw)
    return number if number <= maximum else None


def _int(form: FormData, name: str, label: str) -> int | None:
    raw = text_field(form, name, 12)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise CampaignError(f"{label} must be a whole number", field=name) from None


def _date(form: FormData, name: str, label: str) -> date | None:
    raw = text_field(form, name, 12)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise CampaignError(f"{label} must be a date such as 2026-05-01", field=name) from None


def _words(raw: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(word.strip() for word in raw.split(",") if word.strip()))


_PARTNER_BOX = re.compile(r"^partner_[1-9][0-9]{0,8}$")


def audience_from_form(form: FormData) -> Audience:
    """The audience filters of the campaign form."""
    try:
        return Audience(
            languages=tuple(lang for lang in LANGUAGES if form.get(f"lang_{lang}") == "on"),
            age_min=_int(form, "age_min", "The youngest age"),
            age_max=_int(form, "age_max", "The oldest age"),
            age_unit=text_field(form, "age_unit", 10) or "weeks",
            enrolled_from=_date(form, "enrolled_from", "Enrolled from"),
            enrolled_to=_date(form, "enrolled_to", "Enrolled until"),
            keywords=tuple(word.upper() for word in _words(text_field(form, "keywords", 400))),
            tags=tuple(word.lower() for word in _words(text_field(form, "tags", 400))),
            partners=tuple(
                sorted(
                    int(key.removeprefix("partner_"))
                    for key, value in form.items()
                    if _PARTNER_BOX.match(key) and value == "on"
                )
            ),
        )
    except AudienceError as error:
        raise CampaignError(str(error)) from None


@dataclass(frozen=True)
class CampaignForm:
    """Everything the campaign form says."""

    name: str
    audience: Audience
    local_time: bool
    messages: list[MessageDraft]
    exceeds_weekly_cap: bool


def campaign_from_form(form: FormData) -> CampaignForm:
    """Read the campaign form; blank message slots are skipped."""
    slots = sorted(int(match.group(1)) for key in form if (match := _SLOT.match(key)) is not None)
    messages: list[MessageDraft] = []
    for slot in slots[: MAX_MESSAGES * 2]:
        raw_time = text_field(form, f"send_at_{slot}", 20)
        texts = {lang: text_field(form, f"text_{lang}_{slot}", 1000) for lang in LANGUAGES}
        if not raw_time and not any(texts.values()):
            continue
        try:
            send_at = datetime.fromisoformat(raw_time)
        except ValueError:
            raise CampaignError(
                f"message {len(messages) + 1} needs a date and time", field=f"send_at_{slot}"
            ) from None
        messages.append(MessageDraft(send_at=send_at.replace(tzinfo=None), texts=texts))
    return CampaignForm(
        name=text_field(form, "name", 200),
        audience=audience_from_form(form),
        local_time=form.get("timing") == "local",
        messages=messages,
        exceeds_weekly_cap=form.get("exceeds_weekly_cap") == "on",
    )


def form_values(form: FormData) -> dict[str, Any]:
    """The raw values, to show the form again after an error."""
    return {key: value for key, value in form.items() if isinstance(value, str)}


def caregiver_filters(params: Mapping[str, str]) -> dict[str, str]:
    """The caregivers list's filters, as its search form sends them."""
    return {
        "query": params.get("q", "")[:100],
        "status": params.get("status", "")[:20],
        "language": params.get("language", "")[:5],
        "tag": params.get("tag", "")[:40].lower(),
    }
