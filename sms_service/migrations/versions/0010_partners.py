"""partner, partner_keyword; caregiver.partner_id (every family with the default partner);
outbound_message.sender

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:45:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The program itself, as a partner: the families who joined before there were partners.
# (sms_service.caregivers.partnership names the same slug; migrations are frozen history.)
DEFAULT_SLUG = 'program'
DEFAULT_NAME = 'Little Moments'


def upgrade() -> None:
    partner = op.create_table(
        'partner',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=30), nullable=False),
        sa.Column('sender', sa.String(length=40), nullable=True),
        sa.Column('help_contact', sa.String(length=40), nullable=True),
        sa.Column('timezone', sa.String(length=64), nullable=True),
        sa.Column('local_resources', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_partner')),
        sa.UniqueConstraint('slug', name=op.f('uq_partner_slug')),
        sa.UniqueConstraint('sender', name=op.f('uq_partner_sender')),
    )
    op.create_table(
        'partner_keyword',
        sa.Column('word', sa.String(length=12), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ['partner_id'],
            ['partner.id'],
            name=op.f('fk_partner_keyword_partner_id_partner'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('word', name=op.f('pk_partner_keyword')),
    )
    op.create_index(
        op.f('ix_partner_keyword_partner_id'), 'partner_keyword', ['partner_id'], unique=False
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        partner,
        [
            {
                'slug': DEFAULT_SLUG,
                'name': DEFAULT_NAME,
                'local_resources': '',
                'created_at': now,
                'updated_at': now,
            }
        ],
    )
    with op.batch_alter_table('caregiver') as batch:
        batch.add_column(sa.Column('partner_id', sa.Integer(), nullable=True))
    op.execute(
        sa.text(
            'UPDATE caregiver SET partner_id = (SELECT id FROM partner WHERE slug = :slug)'
        ).bindparams(slug=DEFAULT_SLUG)
    )
    with op.batch_alter_table('caregiver') as batch:
        batch.alter_column('partner_id', existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            op.f('fk_caregiver_partner_id_partner'), 'partner', ['partner_id'], ['id']
        )
        batch.create_index(op.f('ix_caregiver_partner_id'), ['partner_id'], unique=False)
    with op.batch_alter_table('outbound_message') as batch:
        batch.add_column(sa.Column('sender', sa.String(length=40), nullable=True))


def downgrade() -> None:
    # The previous version has one program and no partners: families stay, their partner goes
    # (and texts still waiting go from the program's own sender).
    with op.batch_alter_table('outbound_message') as batch:
        batch.drop_column('sender')
    with op.batch_alter_table('caregiver') as batch:
        batch.drop_index(op.f('ix_caregiver_partner_id'))
        batch.drop_constraint(op.f('fk_caregiver_partner_id_partner'), type_='foreignkey')
        batch.drop_column('partner_id')
    op.drop_index(op.f('ix_partner_keyword_partner_id'), table_name='partner_keyword')
    op.drop_table('partner_keyword')
    op.drop_table('partner')
