"""The errors of caregiver requests, with the reason to show staff."""

from __future__ import annotations

from sms_service.core.errors import NotFound


class CaregiverError(ValueError):
    """A caregiver request that cannot be carried out, with the reason."""


class CaregiverNotFound(NotFound):
    """No caregiver with this id that the viewer may see."""
