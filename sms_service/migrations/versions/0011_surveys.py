"""survey, survey_question, survey_run, survey_answer; outbound kind "survey" and survey_run_id

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 14:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = "kind IN ('tip', 'campaign', 'system', 'reply', 'staff')"
KINDS_AFTER = "kind IN ('tip', 'campaign', 'system', 'reply', 'staff', 'survey')"


def upgrade() -> None:
    op.create_table(
        'survey',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('language', sa.String(length=5), nullable=True),
        sa.Column('tag', sa.String(length=40), nullable=True),
        sa.Column('min_age_months', sa.SmallInteger(), nullable=True),
        sa.Column('max_age_months', sa.SmallInteger(), nullable=True),
        sa.Column('schedule', sa.String(length=10), nullable=False),
        sa.Column('every_weeks', sa.SmallInteger(), nullable=True),
        sa.Column('at_age_months', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'stopped')", name=op.f('ck_survey_status')
        ),
        sa.CheckConstraint(
            "schedule IN ('once', 'every', 'at_age')", name=op.f('ck_survey_schedule')
        ),
        sa.CheckConstraint(
            "schedule != 'every' OR every_weeks BETWEEN 1 AND 52",
            name=op.f('ck_survey_every_weeks'),
        ),
        sa.CheckConstraint(
            "schedule != 'at_age' OR at_age_months IS NOT NULL", name=op.f('ck_survey_at_age')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey')),
        sa.UniqueConstraint('name', name=op.f('uq_survey_name')),
    )
    op.create_table(
        'survey_question',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.SmallInteger(), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('min_value', sa.SmallInteger(), nullable=True),
        sa.Column('max_value', sa.SmallInteger(), nullable=True),
        sa.Column('texts', sa.JSON(), nullable=False),
        sa.Column('choices', sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('number', 'choice', 'yes_no')", name=op.f('ck_survey_question_kind')
        ),
        sa.CheckConstraint("position BETWEEN 1 AND 3", name=op.f('ck_survey_question_position')),
        sa.CheckConstraint(
            "kind != 'number' OR (min_value IS NOT NULL AND max_value >= min_value)",
            name=op.f('ck_survey_question_number_range'),
        ),
        sa.CheckConstraint(
            "kind != 'choice' OR choices IS NOT NULL", name=op.f('ck_survey_question_choices')
        ),
        sa.ForeignKeyConstraint(
            ['survey_id'],
            ['survey.id'],
            name=op.f('fk_survey_question_survey_id_survey'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_question')),
        sa.UniqueConstraint('survey_id', 'position', name='uq_survey_question_position'),
    )
    op.create_table(
        'survey_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('caregiver_id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=True),
        sa.Column('occasion', sa.String(length=40), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=True),
        sa.Column('asked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reasked', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('open', 'done', 'closed')", name=op.f('ck_survey_run_state')
        ),
        sa.ForeignKeyConstraint(
            ['survey_id'],
            ['survey.id'],
            name=op.f('fk_survey_run_survey_id_survey'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['caregiver_id'],
            ['caregiver.id'],
            name=op.f('fk_survey_run_caregiver_id_caregiver'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['child_id'],
            ['child.id'],
            name=op.f('fk_survey_run_child_id_child'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['question_id'],
            ['survey_question.id'],
            name=op.f('fk_survey_run_question_id_survey_question'),
            ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_run')),
        sa.UniqueConstraint(
            'survey_id', 'caregiver_id', 'occasion', name='uq_survey_run_occasion'
        ),
    )
    op.create_index('ix_survey_run_caregiver_state', 'survey_run', ['caregiver_id', 'state'])
    op.create_table(
        'survey_answer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('inbound_id', sa.Integer(), nullable=True),
        sa.Column('value', sa.SmallInteger(), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['run_id'],
            ['survey_run.id'],
            name=op.f('fk_survey_answer_run_id_survey_run'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['question_id'],
            ['survey_question.id'],
            name=op.f('fk_survey_answer_question_id_survey_question'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['inbound_id'],
            ['inbound_message.id'],
            name=op.f('fk_survey_answer_inbound_id_inbound_message'),
            ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answer')),
        sa.UniqueConstraint('run_id', 'question_id', name='uq_survey_answer_run_question'),
    )
    op.create_index(
        'ix_survey_answer_question_answered', 'survey_answer', ['question_id', 'answered_at']
    )
    with op.batch_alter_table('outbound_message') as batch:
        batch.add_column(sa.Column('survey_run_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f('fk_outbound_message_survey_run_id_survey_run'),
            'survey_run',
            ['survey_run_id'],
            ['id'],
            ondelete='SET NULL',
        )
        batch.create_index(op.f('ix_outbound_message_survey_run_id'), ['survey_run_id'])
        batch.drop_constraint(op.f('ck_outbound_message_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_outbound_message_kind'), KINDS_AFTER)


def downgrade() -> None:
    # Survey questions already sent stay on record as system texts, the closest older kind; the
    # ones still waiting would ask a question nothing could read the answer to, so they go.
    op.execute("DELETE FROM outbound_message WHERE kind = 'survey' AND state = 'pending'")
    op.execute("UPDATE outbound_message SET kind = 'system' WHERE kind = 'survey'")
    with op.batch_alter_table('outbound_message') as batch:
        batch.drop_constraint(op.f('ck_outbound_message_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_outbound_message_kind'), KINDS_BEFORE)
        batch.drop_index(op.f('ix_outbound_message_survey_run_id'))
        batch.drop_constraint(
            op.f('fk_outbound_message_survey_run_id_survey_run'), type_='foreignkey'
        )
        batch.drop_column('survey_run_id')
    op.drop_index('ix_survey_answer_question_answered', table_name='survey_answer')
    op.drop_table('survey_answer')
    op.drop_index('ix_survey_run_caregiver_state', table_name='survey_run')
    op.drop_table('survey_run')
    op.drop_table('survey_question')
    op.drop_table('survey')
