"""The error of a partner request, with every problem found (staff fix them all at once)."""

from __future__ import annotations

from sms_service.core.errors import NotFound


class PartnerError(ValueError):
    """A partner that cannot be saved as asked; `problems` says why, one sentence each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class PartnerNotFound(NotFound):
    """No partner with this slug or id that the viewer may see."""
