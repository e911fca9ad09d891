"""SupportService: an event from the inbox -> the handler for its kind -> replies sent.

Handlers are given by the wiring as a table from event kind to a coroutine that
writes its replies to the outbox (and returns their keys); the outbox relay sends
them. Every reply has a key derived from its cause, so handling an event twice posts
nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.events import Event

__all__ = ["Handler", "SupportService"]

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[list[str]]]
"""Handles one event of its kind; returns the outbox keys it wrote (for the log)."""


class SupportService:
    """Dispatches events by kind."""

    def __init__(self, *, handlers: Mapping[str, Handler]) -> None:
        self._handlers = dict(handlers)

    async def process(self, event: Event) -> None:
        """Handle one event from the inbox (idempotent: safe to run again)."""
        handler = self._handlers.get(event.kind)
        if handler is None:
            log.debug("event.skipped kind=%s", event.kind)
            return
        keys = await handler(event)
        log.debug("event.handled kind=%s replies=%s", event.kind, len(keys))
