"""keep kb_chunks.search inline on PostgreSQL

A chunk's row (its text, vector and tsvector together) is larger than TOAST's 2 kB
threshold, so PostgreSQL moved the tsvector out of line: ranking then fetched it from
the TOAST table for every match, most of a search's time at 100,000 chunks. Storage
MAIN keeps it in the row and moves the text and the vector out instead. Rows written
before keep their layout until they are next written (a `kb refresh` rewrites changed
documents; nothing breaks meanwhile).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE kb_chunks ALTER COLUMN search SET STORAGE MAIN")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE kb_chunks ALTER COLUMN search SET STORAGE EXTENDED")
