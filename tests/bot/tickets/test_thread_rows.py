"""A thread's ticket and messages are stored once, whoever writes them first: opening a
ticket and storing a message are each one `INSERT ... ON CONFLICT DO NOTHING`, on
SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.events import Place, Platform
from bot.store.db import Database
from bot.store.models import Message, Ticket
from bot.tickets.queries import add_message, get_or_open_ticket

PLACE = Place(platform=Platform.SLACK, workspace_id="T_ACME", channel_id="C_HELP")
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


async def _open(db: Database, *, likely_new: bool) -> tuple[int, bool]:
    async with db.sessions.begin() as session:
        ticket, opened = await get_or_open_ticket(
            session, PLACE, "1700.1", "U_ALICE", "1700.1", NOW, likely_new=likely_new
        )
        return ticket.id, opened


async def test_a_second_opener_of_the_same_thread_gets_the_first_ones_ticket(db: Database) -> None:
    first = await _open(db, likely_new=True)
    # It expects none there: the insert loses to the row now there, which it reads.
    second = await _open(db, likely_new=True)
    third = await _open(db, likely_new=False)
    assert first[1] is True
    assert second == third == (first[0], False)
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1


async def test_a_message_stored_twice_is_one_row_and_counted_once(db: Database) -> None:
    ticket_id, _ = await _open(db, likely_new=False)  # opened by 1700.1, counted then
    stored = []
    for message_id, text in [("1700.1", "How do I export?"), ("1700.2", "As CSV, I mean")] * 2:
        async with db.sessions.begin() as session:
            ticket = await session.get_one(Ticket, ticket_id)
            stored.append(
                await add_message(
                    session,
                    ticket,
                    message_id=message_id,
                    author_id="U_ALICE",
                    text=text,
                    is_bot=False,
                    posted_at=NOW,
                )
            )
    assert stored == [True, True, False, False]
    async with db.sessions() as session:
        rows = (await session.scalars(select(Message).order_by(Message.id))).all()
        ticket = await session.get_one(Ticket, ticket_id)
    assert [(r.message_id, r.text) for r in rows] == [
        ("1700.1", "How do I export?"),
        ("1700.2", "As CSV, I mean"),
    ]
    assert ticket.messages_since_summary == 2
