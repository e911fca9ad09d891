"""knowledge base: sources, documents, chunks with vectors, full-text search, drafts,
retrievals; llm_calls learn what retrieval added

Full-text search uses each database's own engine: an FTS5 table (external content,
kept in step by triggers) on SQLite; a generated, weighted tsvector column with a GIN
index on PostgreSQL.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from bot.store.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE kb_chunks_fts USING fts5(title, heading, text, "
    "content='kb_chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER kb_chunks_fts_insert AFTER INSERT ON kb_chunks BEGIN "
    "INSERT INTO kb_chunks_fts(rowid, title, heading, text) "
    "VALUES (new.id, new.title, new.heading, new.text); END",
    "CREATE TRIGGER kb_chunks_fts_delete AFTER DELETE ON kb_chunks BEGIN "
    "INSERT INTO kb_chunks_fts(kb_chunks_fts, rowid, title, heading, text) "
    "VALUES ('delete', old.id, old.title, old.heading, old.text); END",
    "CREATE TRIGGER kb_chunks_fts_update AFTER UPDATE ON kb_chunks BEGIN "
    "INSERT INTO kb_chunks_fts(kb_chunks_fts, rowid, title, heading, text) "
    "VALUES ('delete', old.id, old.title, old.heading, old.text); "
    "INSERT INTO kb_chunks_fts(rowid, title, heading, text) "
    "VALUES (new.id, new.title, new.heading, new.text); END",
]
_POSTGRES_FTS = [
    "ALTER TABLE kb_chunks ADD COLUMN search tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(heading, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(text, '')), 'C')) STORED",
    "CREATE INDEX ix_kb_chunks_search ON kb_chunks USING GIN (search)",
]


def _when(column: str) -> sa.Column:
    return sa.Column(column, UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "kb_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=2000), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("base_url", sa.String(length=2000), nullable=True),
        sa.Column("max_pages", sa.Integer(), nullable=True),
        _when("added_at"),
        sa.Column("refreshed_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_sources")),
        sa.UniqueConstraint("location", "workspace_id", name=op.f("uq_kb_sources_location")),
    )
    op.create_table(
        "kb_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_state")),
    )
    op.create_table(
        "kb_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("location", sa.String(length=2000), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("requester_id", sa.String(length=64), nullable=True),
        _when("updated_at"),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["kb_sources.id"],
            name=op.f("fk_kb_documents_source_id_kb_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_kb_documents_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_documents")),
        sa.UniqueConstraint("source_id", "location", name=op.f("uq_kb_documents_source_id")),
    )
    op.create_index("ix_kb_documents_ticket_id", "kb_documents", ["ticket_id"], unique=False)
    op.create_table(
        "kb_drafts",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=True),
        _when("created_at"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_kb_drafts_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_kb_drafts")),
    )
    op.create_table(
        "retrievals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("hits", sa.JSON(), nullable=False),
        sa.Column("context_tokens", sa.Integer(), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_retrievals_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retrievals")),
    )
    op.create_index("ix_retrievals_ticket_id", "retrievals", ["ticket_id"], unique=False)
    op.create_table(
        "kb_chunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedding_model", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["kb_documents.id"],
            name=op.f("fk_kb_chunks_document_id_kb_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_chunks")),
    )
    op.create_index("ix_kb_chunks_document_id", "kb_chunks", ["document_id"], unique=False)
    op.create_index("ix_kb_chunks_workspace_id", "kb_chunks", ["workspace_id"], unique=False)
    with op.batch_alter_table("llm_calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retrieved_chunks", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("retrieved_tokens", sa.Integer(), nullable=False, server_default="0")
        )
    for statement in _SQLITE_FTS if op.get_context().dialect.name == "sqlite" else _POSTGRES_FTS:
        op.execute(statement)
    op.execute("INSERT INTO kb_state (id, revision) VALUES (1, 0)")


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS kb_chunks_fts")
    with op.batch_alter_table("llm_calls", schema=None) as batch_op:
        batch_op.drop_column("retrieved_tokens")
        batch_op.drop_column("retrieved_chunks")
    for table in ("kb_chunks", "retrievals", "kb_drafts", "kb_documents", "kb_state"):
        op.drop_table(table)
    op.drop_table("kb_sources")
