"""drop columns nothing reads: triage_runs.valid, summaries.covers_until_message

Every stored verdict is valid by construction (invalid model output is corrected or
replaced by the rules before it is stored), and summaries cover the whole thread.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("triage_runs", schema=None) as batch_op:
        batch_op.drop_column("valid")
    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.drop_column("covers_until_message")


def downgrade() -> None:
    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("covers_until_message", sa.Integer(), nullable=True))
    with op.batch_alter_table("triage_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("valid", sa.Boolean(), nullable=False, server_default=sa.true())
        )
