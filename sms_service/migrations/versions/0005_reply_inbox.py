"""inbound_message: the staff inbox (state, urgent, assignee); outbound kind "staff" for answers

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 02:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = "kind IN ('tip', 'campaign', 'system', 'reply')"
KINDS_AFTER = "kind IN ('tip', 'campaign', 'system', 'reply', 'staff')"


def upgrade() -> None:
    with op.batch_alter_table('inbound_message') as batch:
        batch.add_column(sa.Column('inbox_state', sa.String(length=12), nullable=True))
        batch.add_column(
            sa.Column('urgent', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column('assigned_to_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f('fk_inbound_message_assigned_to_id_staff_user'),
            'staff_user',
            ['assigned_to_id'],
            ['id'],
            ondelete='SET NULL',
        )
        batch.create_check_constraint(
            op.f('ck_inbound_message_inbox_state'),
            "inbox_state IN ('unread', 'needs_reply', 'done')",
        )
        batch.create_index('ix_inbound_message_inbox', ['inbox_state', 'received_at'])
    with op.batch_alter_table('inbound_message') as batch:
        batch.alter_column('urgent', server_default=None)
    # The texts families sent before the inbox existed were never answered: they wait for staff.
    op.execute("UPDATE inbound_message SET inbox_state = 'unread' WHERE handled_as = 'reply'")
    with op.batch_alter_table('outbound_message') as batch:
        batch.drop_constraint(op.f('ck_outbound_message_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_outbound_message_kind'), KINDS_AFTER)


def downgrade() -> None:
    # Staff answers stay on record as replies, the closest kind the older schema knows.
    op.execute("UPDATE outbound_message SET kind = 'reply' WHERE kind = 'staff'")
    with op.batch_alter_table('outbound_message') as batch:
        batch.drop_constraint(op.f('ck_outbound_message_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_outbound_message_kind'), KINDS_BEFORE)
    with op.batch_alter_table('inbound_message') as batch:
        batch.drop_index('ix_inbound_message_inbox')
        batch.drop_constraint(op.f('ck_inbound_message_inbox_state'), type_='check')
        batch.drop_constraint(
            op.f('fk_inbound_message_assigned_to_id_staff_user'), type_='foreignkey'
        )
        batch.drop_column('assigned_to_id')
        batch.drop_column('urgent')
        batch.drop_column('inbox_state')
