"""caregiver, tip: any language the content files define; an index for first tips

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The languages are content/languages/<code>.yaml now: a new one needs no schema change.
    with op.batch_alter_table('caregiver') as batch:
        batch.drop_constraint(op.f('ck_caregiver_language'), type_='check')
        batch.create_index('ix_caregiver_enrolled_at', ['enrolled_at'])
    with op.batch_alter_table('tip') as batch:
        batch.drop_constraint(op.f('ck_tip_language'), type_='check')


def downgrade() -> None:
    # The previous version knows English and Spanish only; families in another language
    # would be turned away by its constraint, so refuse rather than guess for them.
    connection = op.get_bind()
    for table in ('caregiver', 'tip'):
        others = connection.execute(
            sa.text(f"SELECT count(*) FROM {table} WHERE language NOT IN ('en', 'es')")
        ).scalar_one()
        if others:
            raise RuntimeError(
                f"{others} {table} row(s) in a language other than English or Spanish: "
                "the previous version cannot hold them; move or delete them first"
            )
    check = "language IN ('en', 'es')"
    with op.batch_alter_table('tip') as batch:
        batch.create_check_constraint(op.f('ck_tip_language'), check)
    with op.batch_alter_table('caregiver') as batch:
        batch.drop_index('ix_caregiver_enrolled_at')
        batch.create_check_constraint(op.f('ck_caregiver_language'), check)
