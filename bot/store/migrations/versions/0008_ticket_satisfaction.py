"""the requester's satisfaction: one rating per ticket, asked for once it is resolved

`tickets.satisfaction` is "good" or "bad" (👍/👎, the requester's last press) and
`rated_at` when it was given; both empty until the requester rates the ticket.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from bot.store.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("satisfaction", sa.String(8), nullable=True))
        batch.add_column(sa.Column("rated_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("rated_at")
        batch.drop_column("satisfaction")
