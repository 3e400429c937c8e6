"""experiment (a second wording of a tip, sent to a share of families); outbound_message's
experiment_id and arm

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 06:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "experiment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tip_id", sa.String(length=64), nullable=False),
        sa.Column("wording_b", sa.Text(), nullable=False),
        sa.Column("share_b", sa.Double(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stop_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("target_size", sa.Integer(), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("kept_arm", sa.String(length=1), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('running', 'stopped')", name=op.f("ck_experiment_status")),
        sa.CheckConstraint("share_b > 0 AND share_b < 1", name=op.f("ck_experiment_share_b")),
        sa.CheckConstraint(
            "kept_arm IS NULL OR kept_arm IN ('A', 'B')", name=op.f("ck_experiment_kept_arm")
        ),
        sa.CheckConstraint(
            "target_size IS NULL OR target_size > 0", name=op.f("ck_experiment_target_size")
        ),
        sa.ForeignKeyConstraint(["tip_id"], ["tip.id"], name=op.f("fk_experiment_tip_id_tip")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff_user.id"],
            name=op.f("fk_experiment_created_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment")),
    )
    op.create_index(op.f("ix_experiment_tip_id"), "experiment", ["tip_id"])
    with op.batch_alter_table("outbound_message") as batch:
        batch.add_column(sa.Column("experiment_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("arm", sa.String(length=1), nullable=True))
        batch.create_foreign_key(
            op.f("fk_outbound_message_experiment_id_experiment"),
            "experiment",
            ["experiment_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(op.f("ix_outbound_message_experiment_id"), ["experiment_id"])
        batch.create_check_constraint(
            op.f("ck_outbound_message_arm"), "arm IS NULL OR arm IN ('A', 'B')"
        )


def downgrade() -> None:
    # The texts stay as they were sent (their bodies hold the wording); only which arm they
    # were in is forgotten.
    with op.batch_alter_table("outbound_message") as batch:
        batch.drop_constraint(op.f("ck_outbound_message_arm"), type_="check")
        batch.drop_index(op.f("ix_outbound_message_experiment_id"))
        batch.drop_constraint(
            op.f("fk_outbound_message_experiment_id_experiment"), type_="foreignkey"
        )
        batch.drop_column("arm")
        batch.drop_column("experiment_id")
    op.drop_index(op.f("ix_experiment_tip_id"), table_name="experiment")
    op.drop_table("experiment")
