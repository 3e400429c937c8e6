"""How many texts of a selection of the outbox are in each state: the one count the dashboard's
figures and a campaign's results both read (planned, sent, delivered, failed...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_service.core.answered import RECEIVED_STATES
from sms_service.core.models import OutboundMessage


@dataclass(frozen=True)
class StateCounts:
    """Texts by outbox state; the properties are the figures staff read."""

    by_state: dict[str, int]

    def _get(self, *states: str) -> int:
        return sum(self.by_state.get(state, 0) for state in states)

    @property
    def planned(self) -> int:
        return sum(self.by_state.values())

    @property
    def sent(self) -> int:
        """Texts the provider took (delivered or not)."""
        return self._get(*RECEIVED_STATES)

    @property
    def delivered(self) -> int:
        return self._get("delivered")

    @property
    def undelivered(self) -> int:
        return self._get("undelivered")

    @property
    def awaiting(self) -> int:
        """Sent, no delivery report yet."""
        return self._get("sent")

    @property
    def failed(self) -> int:
        return self._get("failed")

    @property
    def cancelled(self) -> int:
        return self._get("cancelled")

    @property
    def pending(self) -> int:
        """Not sent yet: waiting, or being sent now."""
        return self._get("pending", "sending")


def count_states(session: Session, *where: Any) -> StateCounts:
    """The texts matching `where`, counted by state in the database."""
    rows = session.execute(
        select(OutboundMessage.state, func.count()).where(*where).group_by(OutboundMessage.state)
    ).all()
    return StateCounts({state: count for state, count in rows})
