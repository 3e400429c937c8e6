"""caregiver: the invited status; invitation: one row per number invited from a CSV

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 06:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = ('enrolling', 'active', 'paused', 'opted_out', 'completed', 'undeliverable')
_NEW = ('invited', *_OLD)


def _check(values: tuple[str, ...]) -> str:
    return 'status IN (' + ', '.join(f"'{value}'" for value in values) + ')'


def upgrade() -> None:
    with op.batch_alter_table('caregiver') as batch:
        batch.drop_constraint(op.f('ck_caregiver_status'), type_='check')
        batch.create_check_constraint(op.f('ck_caregiver_status'), _check(_NEW))
    op.create_table(
        'invitation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('caregiver_id', sa.Integer(), nullable=False),
        sa.Column('child_name', sa.String(length=40), nullable=True),
        sa.Column('birth_date', sa.Date(), nullable=True),
        sa.Column('line', sa.Integer(), nullable=False),
        sa.Column('invited_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['caregiver_id'],
            ['caregiver.id'],
            name=op.f('fk_invitation_caregiver_id_caregiver'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['invited_by_id'],
            ['staff_user.id'],
            name=op.f('fk_invitation_invited_by_id_staff_user'),
            ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
        sa.UniqueConstraint('caregiver_id', name=op.f('uq_invitation_caregiver_id')),
    )
    op.create_index(op.f('ix_invitation_created_at'), 'invitation', ['created_at'])


def downgrade() -> None:
    # The previous version has no invited status: invited numbers that never answered were
    # never enrolled, so they go (their invitation text stays in nobody's outbox).
    op.drop_index(op.f('ix_invitation_created_at'), table_name='invitation')
    op.drop_table('invitation')
    op.execute("DELETE FROM caregiver WHERE status = 'invited'")
    with op.batch_alter_table('caregiver') as batch:
        batch.drop_constraint(op.f('ck_caregiver_status'), type_='check')
        batch.create_check_constraint(op.f('ck_caregiver_status'), _check(_OLD))
