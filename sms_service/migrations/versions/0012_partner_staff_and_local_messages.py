"""staff_user.partner_id (partner roles); campaign.partner_id, approval and the 'review' status
(local messages); survey.partner_id (a survey for one partner's families)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 18:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES_BEFORE = "status IN ('draft', 'scheduled', 'sending', 'paused', 'done', 'cancelled')"
STATUSES_AFTER = (
    "status IN ('draft', 'review', 'scheduled', 'sending', 'paused', 'done', 'cancelled')"
)


def upgrade() -> None:
    # Every existing account is the network's own (partner_id NULL): nobody loses access.
    with op.batch_alter_table("staff_user") as batch:
        batch.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_staff_user_partner_id_partner"), "partner", ["partner_id"], ["id"]
        )
        batch.create_index(op.f("ix_staff_user_partner_id"), ["partner_id"])
    # Every existing campaign is the network's own, already past any approval.
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("approved_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            op.f("fk_campaign_partner_id_partner"), "partner", ["partner_id"], ["id"]
        )
        batch.create_foreign_key(
            op.f("fk_campaign_approved_by_id_staff_user"),
            "staff_user",
            ["approved_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(op.f("ix_campaign_partner_id"), ["partner_id"])
        batch.drop_constraint(op.f("ck_campaign_status"), type_="check")
        batch.create_check_constraint(op.f("ck_campaign_status"), STATUSES_AFTER)
    # Every existing survey asks the whole network, as before.
    with op.batch_alter_table("survey") as batch:
        batch.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_survey_partner_id_partner"), "partner", ["partner_id"], ["id"]
        )


def downgrade() -> None:
    # A survey for one partner would ask every family under the older schema: it stops.
    op.execute("UPDATE survey SET status = 'stopped' WHERE partner_id IS NOT NULL")
    with op.batch_alter_table("survey") as batch:
        batch.drop_constraint(op.f("fk_survey_partner_id_partner"), type_="foreignkey")
        batch.drop_column("partner_id")
    # A local message still waiting for approval goes back to its partner's drafts: the older
    # schema has no review, and nothing of it was sent.
    op.execute("UPDATE campaign SET status = 'draft' WHERE status = 'review'")
    with op.batch_alter_table("campaign") as batch:
        batch.drop_constraint(op.f("ck_campaign_status"), type_="check")
        batch.create_check_constraint(op.f("ck_campaign_status"), STATUSES_BEFORE)
        batch.drop_index(op.f("ix_campaign_partner_id"))
        batch.drop_constraint(op.f("fk_campaign_approved_by_id_staff_user"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_campaign_partner_id_partner"), type_="foreignkey")
        batch.drop_column("approved_at")
        batch.drop_column("approved_by_id")
        batch.drop_column("partner_id")
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_index(op.f("ix_staff_user_partner_id"))
        batch.drop_constraint(op.f("fk_staff_user_partner_id_partner"), type_="foreignkey")
        batch.drop_column("partner_id")
