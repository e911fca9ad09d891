"""teams: the playbook team a ticket was routed to, and the lead its card suggested

`tickets.team` is the team whose leads get the ticket (set from the routing rules
when it is triaged; empty: the workspace's leads). `suggested_assignee_id` is the
team lead the card suggested when it was escalated: the next round-robin pick for
the team follows the last one suggested. An index on (platform, workspace_id, team)
keeps those picks quick.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("team", sa.String(32), nullable=True))
        batch.add_column(sa.Column("suggested_assignee_id", sa.String(64), nullable=True))
    op.create_index("ix_tickets_team", "tickets", ["platform", "workspace_id", "team"])


def downgrade() -> None:
    op.drop_index("ix_tickets_team", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("suggested_assignee_id")
        batch.drop_column("team")
