"""tip: editable in the admin (safety reviews, source file, edited_at); tip_version history

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 06:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tip") as batch:
        batch.add_column(
            sa.Column("safety_reviewed", sa.JSON(), nullable=False, server_default="[]")
        )
        batch.add_column(sa.Column("source_file", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "tip_version",
        sa.Column("tip_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("min_week", sa.Integer(), nullable=False),
        sa.Column("max_week", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("author", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tip_id"], ["tip.id"], name=op.f("fk_tip_version_tip_id_tip")),
        sa.PrimaryKeyConstraint("tip_id", "version", name=op.f("pk_tip_version")),
    )
    # The versions loaded before this one are known only as they are now.
    op.execute(
        "INSERT INTO tip_version (tip_id, version, min_week, max_week, theme, text, "
        "content_hash, source, author, created_at) SELECT id, version, min_week, max_week, "
        "theme, text, content_hash, 'files', 'cli', updated_at FROM tip"
    )


def downgrade() -> None:
    op.drop_table("tip_version")
    with op.batch_alter_table("tip") as batch:
        batch.drop_column("edited_at")
        batch.drop_column("source_file")
        batch.drop_column("safety_reviewed")
