"""Ticket search in the database's own engine (FTS5 on SQLite, tsvector on PostgreSQL):
what matches, that what a person types is never read as query syntax, and that erased
text leaves the index itself, not just the rows it points at."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text

from bot.events import Place, Platform
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import Message, Ticket
from bot.tickets.erasure import apply_edit, erase_user, purge_older_than
from bot.tickets.search import (
    MAX_QUERY_CHARS,
    BadSearch,
    fts5_query,
    search_words,
    text_matches,
)
from tests.conftest import PG_ENV, create_pg_database, drop_pg_database

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
THREAD = "1700000000.000001"


def test_search_words_are_the_words_lower_cased_once() -> None:
    assert search_words('Export  CSV, "export"; csv*') == ["export", "csv"]
    assert search_words("NEAR(a b) OR -x ^y col:z") == ["near", "b", "x", "y", "col", "z"]
    assert search_words("The AND the not") == []  # stopwords, as PostgreSQL has them
    assert search_words("  ¿qué pasa? 42_b ") == ["qué", "pasa", "42", "b"]
    assert search_words("*** --- ()") == []
    assert len(search_words(" ".join(f"w{n}" for n in range(40)))) == 16


def test_a_search_too_long_is_refused() -> None:
    search_words("x" * MAX_QUERY_CHARS)
    with pytest.raises(BadSearch, match="at most 200 characters"):
        search_words("x" * (MAX_QUERY_CHARS + 1))


def test_every_fts5_word_is_quoted() -> None:
    assert fts5_query(["near", 'a"b']) == '"near" AND "a""b"'


async def _seed(db: Database) -> None:
    async with db.sessions.begin() as session:
        session.add_all(
            [
                Ticket(id=1, platform="slack", workspace_id="T1", channel_id="C1",
                       thread_id=THREAD, requester_id="U_ALICE",
                       summary="Refund for a double charge", created_at=NOW),
                Ticket(id=2, platform="slack", workspace_id="T1", channel_id="C1",
                       thread_id="1700000000.000002", requester_id="U_BOB", created_at=NOW),
            ]
        )  # fmt: skip
        await session.flush()
        session.add_all(
            [
                Message(ticket_id=1, message_id="m1", author_id="U_ALICE",
                        text="The invoice export crashes on the zebrafish page",
                        posted_at=NOW - timedelta(days=40)),
                Message(ticket_id=1, message_id="m2", author_id="bot", is_bot=True,
                        text="Try the quarterly report instead", posted_at=NOW),
                Message(ticket_id=2, message_id="m3", author_id="U_BOB",
                        text="Where do I change my password?", posted_at=NOW),
            ]
        )  # fmt: skip


async def _found(db: Database, query: str) -> list[int]:
    async with db.sessions() as session:
        dialect = session.get_bind().dialect.name
        condition = text_matches(search_words(query), dialect)
        return list(
            (await session.scalars(select(Ticket.id).where(condition).order_by(Ticket.id))).all()
        )


async def _indexed(db: Database, word: str) -> int:
    """How many rows the search index itself holds `word` for (messages and summaries):
    FTS5 answers MATCH from its index alone; PostgreSQL's index is the stored tsvector."""
    async with db.sessions() as session:
        if db.is_sqlite:
            statement = (
                "SELECT (SELECT count(*) FROM messages_fts WHERE messages_fts MATCH :w)"
                " + (SELECT count(*) FROM tickets_fts WHERE tickets_fts MATCH :w)"
            )
            return int(await session.scalar(text(statement), {"w": fts5_query([word])}) or 0)
        statement = (
            "SELECT (SELECT count(*) FROM messages WHERE search @@ plainto_tsquery('english', :w))"
            " + (SELECT count(*) FROM tickets WHERE search @@ plainto_tsquery('english', :w))"
        )
        return int(await session.scalar(text(statement), {"w": word}) or 0)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("zebrafish", [1]),
        ("ZEBRAFISH", [1]),
        ("crash", [1]),  # stemmed: "crashes"
        ("invoice export", [1]),  # every word, in one message
        ("quarterly", [1]),  # the bot's answer
        ("refund double", [1]),  # the summary
        ("password", [2]),
        ("invoice password", []),  # in two tickets, none with both
        ("zebrafish quarterly", []),  # in two messages of one ticket: not one message
        ("nothing-like-it", []),
        ("", []),
    ],
)
async def test_a_ticket_matches_a_message_or_its_summary_holding_every_word(
    db: Database, query: str, expected: list[int]
) -> None:
    await _seed(db)
    assert await _found(db, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [('"', []), ('""', []), ("'", []), ("*", []), ("(", []), ("%", []), ("_", []),
     ("\\", []), ("NOT", []), ("AND OR NOT", []), ("zebrafish*", [1]), ('"zebrafish', [1]),
     ("-zebrafish", [1]), ("^zebrafish", [1]), ("zebrafish AND", [1]), ("text:zebrafish", []),
     ("NEAR(zebrafish page)", []), ("zebrafish OR password", []), ("zebrafish & | ! <->", [1]),
     ("a:b:c", [])],
)  # fmt: skip
async def test_search_syntax_in_the_box_is_text(
    db: Database, query: str, expected: list[int]
) -> None:
    """Operators are words to match ("or", "near", "text"), punctuation is nothing."""
    await _seed(db)
    assert await _found(db, query) == expected


async def test_a_deleted_message_leaves_the_index(db: Database) -> None:
    await _seed(db)
    assert await _indexed(db, "zebrafish") == 1
    place = Place(platform=Platform.SLACK, workspace_id="T1", channel_id="C1", thread_id=THREAD)
    await apply_edit(db.sessions, place, "m1", None, NOW)
    assert await _indexed(db, "zebrafish") == 0
    assert await _found(db, "zebrafish") == []
    # What the bot derived from the thread (its answer, the summary) went with it.
    assert await _found(db, "quarterly") == []
    assert await _found(db, "refund") == []
    assert await _indexed(db, "refund") == 0


async def test_an_edit_moves_the_index_to_the_new_words(db: Database) -> None:
    await _seed(db)
    place = Place(platform=Platform.SLACK, workspace_id="T1", channel_id="C1", thread_id="x")
    await apply_edit(db.sessions, place, "m3", "How do I reset my passphrase?", NOW)
    assert await _found(db, "password") == []
    assert await _indexed(db, "password") == 0
    assert await _found(db, "passphrase") == [2]


async def test_a_forgotten_person_leaves_the_index(db: Database) -> None:
    await _seed(db)
    await erase_user(db.sessions, user_id="U_ALICE", actor="cli:operator", now=NOW)
    for word in ("zebrafish", "quarterly", "refund"):
        assert await _indexed(db, word) == 0, word
        assert await _found(db, word) == []
    assert await _found(db, "password") == [2]  # Bob's ticket is untouched


async def test_retention_purges_the_index_too(db: Database) -> None:
    await _seed(db)
    await purge_older_than(db.sessions, NOW - timedelta(days=30), NOW)
    assert await _indexed(db, "zebrafish") == 0
    assert await _found(db, "zebrafish") == []
    assert await _found(db, "password") == [2]  # newer than the cut-off


async def test_a_deleted_ticket_leaves_the_index(db: Database) -> None:
    await _seed(db)
    async with db.sessions.begin() as session:
        await session.execute(delete(Ticket).where(Ticket.id == 1))
    for word in ("zebrafish", "quarterly", "refund"):
        assert await _indexed(db, word) == 0, word
    assert await _found(db, "password") == [2]


async def _messages_written_before_the_migration(database: Database) -> list[int]:
    await upgrade(database, "0010")
    async with database.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO tickets (id, platform, workspace_id, channel_id, thread_id,"
                " requester_id, status, needs_human, summary, messages_since_summary,"
                " last_activity_at, created_at, updated_at) VALUES (7, 'slack', 'T1', 'C1',"
                " 't', 'U1', 'open', false, 'about a walrus', 0, :now, :now, :now)"
            ),
            {"now": NOW},
        )
        await conn.execute(
            text(
                "INSERT INTO messages (ticket_id, message_id, author_id, is_bot, text,"
                " posted_at) VALUES (7, 'm', 'U1', false, 'my narwhal is stuck', :now)"
            ),
            {"now": NOW},
        )
    await upgrade(database)
    return [*await _found(database, "narwhal"), *await _found(database, "walrus")]


async def test_the_migration_indexes_what_was_written_before_on_sqlite(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        assert await _messages_written_before_the_migration(database) == [7, 7]
    finally:
        await database.dispose()


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} not set")
async def test_the_migration_indexes_what_was_written_before_on_postgres() -> None:
    url = await create_pg_database(os.environ[PG_ENV])
    database = Database(url)
    try:
        assert await _messages_written_before_the_migration(database) == [7, 7]
    finally:
        await database.dispose()
        await drop_pg_database(url)
