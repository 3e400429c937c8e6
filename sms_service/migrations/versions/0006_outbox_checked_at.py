"""outbound_message: checked_at (the claim passed its last check, the text is on its way)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows "sending" now were claimed by a dispatcher of the previous version: they stay
    # unchecked (NULL), so a STOP still cancels them, as it did.
    with op.batch_alter_table('outbound_message') as batch:
        batch.add_column(sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbound_message') as batch:
        batch.drop_column('checked_at')
