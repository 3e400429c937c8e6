"""outbox: uncertain_since; early_delivery_report; send_pacer

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 22:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_message') as batch:
        batch.add_column(sa.Column('uncertain_since', sa.DateTime(timezone=True), nullable=True))
    # A row already "sending" was claimed at claimed_at: that is its first uncertain moment.
    op.execute(
        "UPDATE outbound_message SET uncertain_since = claimed_at WHERE state = 'sending'"
    )
    op.create_table('early_delivery_report',
    sa.Column('provider_sid', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error_code', sa.String(length=20), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('provider_sid', name=op.f('pk_early_delivery_report'))
    )
    op.create_index(op.f('ix_early_delivery_report_received_at'), 'early_delivery_report', ['received_at'], unique=False)
    op.create_table('send_pacer',
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('next_free_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('sender', name=op.f('pk_send_pacer'))
    )


def downgrade() -> None:
    op.drop_table('send_pacer')
    op.drop_index(op.f('ix_early_delivery_report_received_at'), table_name='early_delivery_report')
    op.drop_table('early_delivery_report')
    with op.batch_alter_table('outbound_message') as batch:
        batch.drop_column('uncertain_since')
