"""A failed statement's error never carries its bound values (message text)."""

from __future__ import annotations

import traceback

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from bot.store.db import Database
from bot.store.models import InboxItem

CANARY = "CANARY-7b3c51 my card number is in this message"


def _row(event_id: str) -> dict[str, object]:
    return {
        "platform": "slack",
        "event_id": event_id,
        "kind": "message_posted",
        "payload": {"text": CANARY},
        "status": "failed",
        "attempts": 1,
        "last_error": CANARY,
    }


async def test_an_integrity_error_does_not_show_the_bound_parameters(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(insert(InboxItem), _row("Ev-dup"))
    with pytest.raises(IntegrityError) as caught:
        async with db.engine.begin() as conn:
            await conn.execute(insert(InboxItem), _row("Ev-dup"))
    shown = "".join(traceback.format_exception(caught.value))
    assert "inbox" in str(caught.value)  # the error still says what failed
    assert CANARY not in str(caught.value)
    assert CANARY not in repr(caught.value)
    assert CANARY not in shown


async def test_an_orm_flush_error_does_not_show_the_bound_parameters(db: Database) -> None:
    async with db.sessions.begin() as session:
        session.add(InboxItem(**_row("Ev-orm")))
    with pytest.raises(IntegrityError) as caught:
        async with db.sessions.begin() as session:
            session.add(InboxItem(**_row("Ev-orm")))
    assert CANARY not in str(caught.value)
    assert CANARY not in "".join(traceback.format_exception(caught.value))
