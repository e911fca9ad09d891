"""Alembic migrations, run from code: `supportbot db upgrade` and the app's start-up."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.exc import InterfaceError, OperationalError

from bot import ConfigError
from bot.store.db import Database

__all__ = ["current_revision", "head_revision", "upgrade"]

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of supportbot."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


async def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema up to `revision` (default: the newest).

    Raises:
        ConfigError: the database cannot be opened (no such directory, server down,
            wrong credentials); the message names DATABASE_URL, never its password.
    """
    config = alembic_config(database.url)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(run)
    except (OSError, OperationalError, InterfaceError) as exc:
        # Connecting failed (no such directory, server down, credentials refused).
        raise ConfigError(
            f"DATABASE_URL: cannot open the database ({type(exc).__name__}); check that "
            "the directory exists and the server is running and reachable"
        ) from None


async def current_revision(database: Database) -> str | None:
    """The revision the database is at, or None when it was never migrated."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with database.engine.connect() as connection:
        return await connection.run_sync(read)
