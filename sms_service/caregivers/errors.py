"""The errors of caregiver requests, with the reason to show staff."""

from __future__ import annotations


class CaregiverError(ValueError):
    """A caregiver request that cannot be carried out, with the reason."""
