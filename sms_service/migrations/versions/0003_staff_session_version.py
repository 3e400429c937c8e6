"""staff_user: session_version; sign-in throttling per client address replaces locked_until

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staff_user') as batch:
        # Existing rows get 0 (as the cookies they hold carry no version, they sign in again).
        batch.add_column(
            sa.Column('session_version', sa.Integer(), nullable=False, server_default='0')
        )
        batch.add_column(
            sa.Column('signin_throttle', sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        # Any account-wide lock ends: throttling is per client address from now on.
        batch.drop_column('locked_until')
    with op.batch_alter_table('staff_user') as batch:
        batch.alter_column('session_version', server_default=None)
        batch.alter_column('signin_throttle', server_default=None)
    op.execute("UPDATE staff_user SET failed_logins = 0")


def downgrade() -> None:
    with op.batch_alter_table('staff_user') as batch:
        batch.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch.drop_column('signin_throttle')
        batch.drop_column('session_version')
