"""Who performs a staff action (a signed-in person, an API token, or the CLI) and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from sms_service.core.models import AuditLog
from sms_service.core.scope import Scope


@dataclass(frozen=True)
class Actor:
    """The author of a staff action: `name` is an email (the one tried, for a sign-in attempt),
    or "cli"; `staff_user_id` is set once the person is known."""

    name: str
    staff_user_id: int | None = None
    role: str = "staff"
    partner_id: int | None = None  # a partner's staff member acts within that partner only

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_network_admin(self) -> bool:
        """An admin of the whole network (approvals of partners' local messages are theirs)."""
        return self.role == "admin" and self.partner_id is None

    @property
    def scope(self) -> Scope:
        """The part of the network this actor may act on."""
        return Scope(self.partner_id)

    def audit(self, session: Session, action: str, target: Any = None, **detail: Any) -> AuditLog:
        """Record `action` on `target` by this actor in the audit log; the caller commits."""
        entry = AuditLog(
            staff_user_id=self.staff_user_id,
            actor=self.name,
            action=action,
            target_type=type(target).__name__ if target is not None else None,
            target_id=str(target.id) if target is not None else None,
            detail=detail,
        )
        session.add(entry)
        return entry


CLI_ACTOR = Actor(name="cli", role="admin")
