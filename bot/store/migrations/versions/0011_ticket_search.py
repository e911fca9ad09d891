"""ticket search: full-text indexes over messages.text and tickets.summary

The dashboard searches tickets by what was written in them, in each database's own
engine, as the knowledge base does (0005): on SQLite two FTS5 tables with external
content (`messages_fts` over `messages.text`, `tickets_fts` over `tickets.summary`),
kept in step by triggers; on PostgreSQL a generated `search` tsvector column on each
table with a GIN index. Erasure nulls the text, and the index follows: the update
trigger takes the old words out of FTS5, and PostgreSQL recomputes the generated column.

SQLite drops a table's triggers with it: a later migration that rebuilds `messages` or
`tickets` (batch_alter_table's copy-and-rename) must create these triggers again and
rebuild the FTS tables.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_SQLITE = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    # Only a change of the indexed column: erasure, edits and retention are such changes.
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",  # the rows written before
    "CREATE VIRTUAL TABLE tickets_fts USING fts5(summary, content='tickets', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN "
    "INSERT INTO tickets_fts(rowid, summary) VALUES (new.id, new.summary); END",
    "CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, summary) "
    "VALUES ('delete', old.id, old.summary); END",
    # Tickets are updated often (status, activity), their summary rarely.
    "CREATE TRIGGER tickets_fts_update AFTER UPDATE OF summary ON tickets BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, summary) "
    "VALUES ('delete', old.id, old.summary); "
    "INSERT INTO tickets_fts(rowid, summary) VALUES (new.id, new.summary); END",
    "INSERT INTO tickets_fts(tickets_fts) VALUES ('rebuild')",
]
_POSTGRES = [
    "ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS "
    "(to_tsvector('english', coalesce(text, ''))) STORED",
    "CREATE INDEX ix_messages_search ON messages USING GIN (search)",
    "ALTER TABLE tickets ADD COLUMN search tsvector GENERATED ALWAYS AS "
    "(to_tsvector('english', coalesce(summary, ''))) STORED",
    "CREATE INDEX ix_tickets_search ON tickets USING GIN (search)",
]


def upgrade() -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    for statement in _SQLITE if sqlite else _POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for fts in ("messages_fts", "tickets_fts"):
            for trigger in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{trigger}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
        return
    for table in ("messages", "tickets"):
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_search")
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search")
