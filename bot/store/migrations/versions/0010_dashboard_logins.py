"""dashboard logins: one-time login links, and the sessions they open

`login_links` holds a link's sha256 (never the token), the lead it signs in (platform,
user, the workspaces they lead, their roles), when it expires and when it was used.
`dashboard_sessions` holds a signed-in session's sha256 (never the cookie's secret), the
same identity, the CSRF token its forms carry, and when it expires or was revoked.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from bot.store.models import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _identity() -> list[sa.Column]:
    return [
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("workspaces", sa.JSON(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "login_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        *_identity(),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_links_token_hash")),
    )
    op.create_table(
        "dashboard_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        *_identity(),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_sessions")),
        sa.UniqueConstraint("session_hash", name=op.f("uq_dashboard_sessions_session_hash")),
    )


def downgrade() -> None:
    op.drop_table("dashboard_sessions")
    op.drop_table("login_links")
