"""The 👀 a mention gets as soon as it is accepted, written beside it in the inbox's
transaction, so the asker sees it whatever the worker and the model are doing.

The flow takes it away once the ticket's replies are written (`MessageFlow`); the key
is the one the flow would write, so a sign is never written twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.events import Event, MessagePosted, Seen, dump
from bot.pipeline.keys import seen_key

__all__ = ["seen_row"]


def seen_row(event: Event, now: datetime) -> dict[str, Any] | None:
    """The outbox row of the seen sign for `event`: a mention the bot will answer (one
    with text; an empty mention gets a hint instead), or None."""
    if not isinstance(event, MessagePosted) or not event.mentions_bot or not event.text.strip():
        return None
    key = seen_key(event)
    place = event.place.model_copy(update={"thread_id": event.place.thread_id or event.message_id})
    sign = Seen(key=key, place=place, message_id=event.message_id)
    return {
        "key": key,
        "platform": place.platform.value,
        "ticket_id": None,
        "kind": sign.kind,
        "payload": dump(sign),
        "is_card": False,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
    }
