"""A partner as JSON (the API and `sms-tips partner show`), and a partner read from JSON."""

from __future__ import annotations

from typing import Any

from sms_service.core.models import Partner
from sms_service.partners.errors import PartnerError
from sms_service.partners.validation import PartnerFields


def partner_json(partner: Partner) -> dict[str, Any]:
    """Every field of `partner` and its keywords (word and language)."""
    return {
        "id": partner.id,
        "slug": partner.slug,
        "name": partner.name,
        "sender": partner.sender,
        "help_contact": partner.help_contact,
        "timezone": partner.timezone,
        "local_resources": partner.local_resources,
        "keywords": [
            {"word": keyword.word, "language": keyword.language} for keyword in partner.keywords
        ],
        "created_at": partner.created_at.isoformat(),
        "updated_at": partner.updated_at.isoformat(),
    }


_TEXT_FIELDS = ("name", "slug", "sender", "help_contact", "timezone", "local_resources")


def partner_input(data: Any, *, creating: bool) -> PartnerFields:
    """The fields of a partner from a JSON object; PartnerError for anything else."""
    if not isinstance(data, dict):
        raise PartnerError(["the body must be a JSON object"])
    allowed = {*_TEXT_FIELDS, "keywords"} if creating else set(_TEXT_FIELDS) - {"slug"}
    problems = [f"unknown field {key!r}" for key in data if key not in allowed]
    problems += [
        f'{key} must be a string ("" clears it)'
        for key in _TEXT_FIELDS
        if key in data and data[key] is not None and not isinstance(data[key], str)
    ]
    if problems:
        raise PartnerError(problems)
    values = {key: data[key] for key in _TEXT_FIELDS if key in allowed and key in data}
    return PartnerFields(**{key: str(value) for key, value in values.items() if value is not None})


def keywords_input(value: Any, what: str = "keywords") -> dict[str, str]:
    """{WORD: language} from a JSON object, or from a list of words (each in English)."""
    if value is None:
        return {}
    if isinstance(value, list) and all(isinstance(word, str) for word in value):
        return dict.fromkeys(value, "en")
    if isinstance(value, dict) and all(
        isinstance(word, str) and isinstance(language, str) for word, language in value.items()
    ):
        return dict(value)
    raise PartnerError([f"{what} must be a list of words or an object of word: language"])
