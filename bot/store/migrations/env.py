"""Alembic environment: always handed a live connection by bot.store.migrate."""

from alembic import context

from bot.store.kb_tables import is_search_object
from bot.store.models import Base


def _include_name(name, type_, parent_names):  # type: ignore[no-untyped-def]
    # Full-text search objects are dialect-specific and built by hand: autogenerate
    # must neither drop nor re-create them.
    return not is_search_object(name, type_, parent_names.get("table_name"))


connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable from the alembic CLI
    raise RuntimeError("run migrations with `supportbot db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    include_name=_include_name,
)
with context.begin_transaction():
    context.run_migrations()
