"""What part of the network a signed-in person may see: every partner's families, or one's.

The one place that narrows a query to a viewer. A domain function that lists or finds families,
their texts, campaigns or results takes a `Scope` and asks it for the condition; the admin and
the API build the scope from the signed-in person (`StaffIdentity.scope`). An id outside the
scope is treated as an id that does not exist (404), so ids cannot be guessed across partners.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select, true

from sms_service.core.models import Caregiver, Partner


@dataclass(frozen=True)
class Scope:
    """One partner's part of the network (`partner_id`), or all of it (None)."""

    partner_id: int | None = None

    @property
    def is_network(self) -> bool:
        return self.partner_id is None

    def sees_partner(self, partner_id: int | None) -> bool:
        """Whether a row belonging to `partner_id` (None: the network's own) is visible."""
        return self.partner_id is None or partner_id == self.partner_id

    def families(self, caregiver_id: Any = Caregiver.id) -> ColumnElement[bool]:
        """The condition that `caregiver_id` (a column holding a caregiver's id, of any table)
        names one of this scope's families; needs no join to the caregiver table."""
        if self.partner_id is None:
            return true()
        if caregiver_id is Caregiver.id:
            return Caregiver.partner_id == self.partner_id
        mine = select(Caregiver.id).where(Caregiver.partner_id == self.partner_id)
        condition: ColumnElement[bool] = caregiver_id.in_(mine)
        return condition

    def owned(self, partner_id: Any) -> ColumnElement[bool]:
        """The condition that a row's own `partner_id` column (a campaign's, a staff member's)
        is this scope's partner; a network scope sees every row, the network's own included."""
        if self.partner_id is None:
            return true()
        condition: ColumnElement[bool] = partner_id == self.partner_id
        return condition

    def partners(self) -> ColumnElement[bool]:
        """The condition on the partner table: the partners this scope sees."""
        return self.owned(Partner.id)


NETWORK = Scope()
