"""Who performs a staff action (a signed-in person, an API token, or the CLI), for the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from sms_service.core.models import AuditLog
from sms_service.staff.accounts import record_audit


@dataclass(frozen=True)
class Actor:
    """The author of a staff action: `name` is an email, or "cli"."""

    name: str
    staff_user_id: int | None = None
    role: str = "staff"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def audit(self, session: Session, action: str, target: Any = None, **detail: Any) -> AuditLog:
        """Record `action` on `target` by this actor in the audit log."""
        return record_audit(
            session,
            actor=self.name,
            action=action,
            target=target,
            staff_user_id=self.staff_user_id,
            detail=detail,
        )


CLI_ACTOR = Actor(name="cli", role="admin")
