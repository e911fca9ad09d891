"""the outbox relay: replies retried on their own schedule, and given up on with an
error; periodic jobs hold their period under a lease until the work is done

`outbox.next_attempt_at` is when a failed reply is tried again, `status` gains
"failed" (after bounded attempts). `job_runs.status` is "running" (under
`lease_until`) or "done": a crash mid-run lets the lease lapse and the period re-runs.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from bot.store.models import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("job_runs") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="done"))
        batch.add_column(sa.Column("lease_until", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("status")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("next_attempt_at")
