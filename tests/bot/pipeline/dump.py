"""Everything a database holds, as one string, for "is this value anywhere?" checks."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.db import Database
from bot.store.models import Base


async def database_dump(db: Database) -> str:
    """Every row of every table, as text."""
    parts = []
    async with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = (await conn.execute(select(table))).all()
            parts.extend(repr(tuple(row)) for row in rows)
    return "\n".join(parts)
