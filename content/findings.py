"""A finding: one problem the checker reports about a tip or a message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem: the rule that found it, how bad it is, and where."""

    rule: str
    severity: Severity
    message: str
    file: str | None = None
    item_id: str | None = None

    def line(self) -> str:
        """The one-line form printed by `sms-tips content check`: `file: id: rule: message`."""
        rule = self.rule if self.severity == "error" else f"{self.rule} (warning)"
        return f"{self.file or '-'}: {self.item_id or '-'}: {rule}: {self.message}"
