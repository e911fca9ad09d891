"""The 👀 a question gets as soon as it is accepted, written beside it in the inbox's
transaction, so the asker sees it whatever the worker and the model are doing. A
question is a mention with text, or a message that opens a ticket without one (the
intake marks those: a help channel's top-level message, a new forum post).

The inbox takes it away in the transaction that marks the event done, after every
reply the event wrote (so after them in the thread's order too); a sign and its
taking away each have one key, so neither is ever written twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.events import Event, MessagePosted, Seen, dump
from bot.pipeline.keys import seen_done_key, seen_key

__all__ = ["seen_row", "seen_sign", "shows_seen"]


def shows_seen(event: Event) -> bool:
    """Whether `event` gets the seen sign at intake (and so has it taken away after):
    a question the bot will answer. An empty mention gets a hint instead."""
    return (
        isinstance(event, MessagePosted)
        and (event.mentions_bot or event.opens_without_mention)
        and bool(event.text.strip())
    )


def seen_sign(event: MessagePosted, *, done: bool = False) -> Seen:
    """The seen sign of `event` (or its taking away), in the thread its replies go to."""
    place = event.place.model_copy(update={"thread_id": event.place.thread_id or event.message_id})
    return Seen(
        key=seen_done_key(event) if done else seen_key(event),
        place=place,
        message_id=event.message_id,
        done=done,
    )


def seen_row(event: Event, now: datetime, *, done: bool = False) -> dict[str, Any] | None:
    """The outbox row of the seen sign for `event` (when `shows_seen`), or of its taking
    away (`done`); None for an event that gets none."""
    if not isinstance(event, MessagePosted) or not shows_seen(event):
        return None
    sign = seen_sign(event, done=done)
    return {
        "key": sign.key,
        "platform": sign.place.platform.value,
        "ticket_id": None,
        "kind": sign.kind,
        "payload": dump(sign),
        "is_card": False,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
    }
