"""A partner as JSON, the same for the API and `sms-tips partner show`."""

from __future__ import annotations

from typing import Any

from sms_service.core.models import Partner


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
