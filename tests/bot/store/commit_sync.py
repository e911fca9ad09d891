"""What the tests read to tell a commit that waited for the disk from one that did not:
SQLite's `synchronous` and PostgreSQL's `synchronous_commit`, as each commit saw it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from bot.store.db import Database


@dataclass
class CommitSync:
    """Every commit's setting on `db` from now on (`levels`), read just before the
    DBAPI commit, and the values that mean synced and not waited for."""

    db: Database
    levels: list[object] = field(default_factory=list)

    def __post_init__(self) -> None:
        sqlite = self.db.is_sqlite
        self.setting = "PRAGMA synchronous" if sqlite else "SHOW synchronous_commit"
        self.synced, self.not_waited = (2, 1) if sqlite else ("on", "off")
        event.listen(self.db.engine.sync_engine, "commit", self._read)

    def _read(self, connection: Any) -> None:
        self.levels.append(connection.exec_driver_sql(self.setting).scalar())

    async def pooled(self) -> object:
        """The setting of a connection just taken from the pool."""
        async with self.db.engine.connect() as connection:
            return (await connection.exec_driver_sql(self.setting)).scalar()
