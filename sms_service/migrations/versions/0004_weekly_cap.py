"""outbox: cap_week (the household's weekly cap); campaign: exceeds_weekly_cap

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 01:40:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_outbox = sa.table(
    'outbound_message',
    sa.column('id', sa.Integer),
    sa.column('kind', sa.String),
    sa.column('caregiver_id', sa.Integer),
    sa.column('due_at', sa.DateTime(timezone=True)),
    sa.column('cap_week', sa.String),
)
_caregiver = sa.table('caregiver', sa.column('id', sa.Integer), sa.column('timezone', sa.String))


def upgrade() -> None:
    with op.batch_alter_table('campaign') as batch:
        batch.add_column(
            sa.Column('exceeds_weekly_cap', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table('campaign') as batch:
        batch.alter_column('exceeds_weekly_cap', server_default=None)
    with op.batch_alter_table('outbound_message') as batch:
        batch.add_column(sa.Column('cap_week', sa.String(length=10), nullable=True))
    op.create_index(
        'ix_outbound_message_caregiver_cap_week',
        'outbound_message',
        ['caregiver_id', 'cap_week'],
        unique=False,
    )
    # A tip's key ends with its local ISO week (tip:{caregiver}:{child}:2026-W10).
    op.execute(
        "UPDATE outbound_message SET cap_week = substr(dedupe_key, length(dedupe_key) - 7) "
        "WHERE kind = 'tip'"
    )
    _backfill_recent_campaign_texts()


def _backfill_recent_campaign_texts() -> None:
    """Campaign texts of this week and later count too: their week is the local date of
    due_at in the caregiver's zone (older weeks are over and need no count)."""
    since = datetime.now(UTC) - timedelta(days=8)
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_outbox.c.id, _caregiver.c.timezone, _outbox.c.due_at)
        .select_from(_outbox.join(_caregiver, _caregiver.c.id == _outbox.c.caregiver_id))
        .where(_outbox.c.kind == 'campaign', _outbox.c.due_at >= since)
    ).all()
    weeks = []
    for row_id, timezone, due_at in rows:
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            continue  # the planners skip such caregivers too
        aware = due_at if due_at.tzinfo else due_at.replace(tzinfo=UTC)  # SQLite drops the zone
        year, week, _ = aware.astimezone(zone).date().isocalendar()
        weeks.append({'row_id': row_id, 'week': f"{year}-W{week:02d}"})
    if weeks:
        connection.execute(
            _outbox.update()
            .where(_outbox.c.id == sa.bindparam('row_id'))
            .values(cap_week=sa.bindparam('week')),
            weeks,
        )


def downgrade() -> None:
    op.drop_index('ix_outbound_message_caregiver_cap_week', table_name='outbound_message')
    with op.batch_alter_table('outbound_message') as batch:
        batch.drop_column('cap_week')
    with op.batch_alter_table('campaign') as batch:
        batch.drop_column('exceeds_weekly_cap')
