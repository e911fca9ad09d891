"""Intake: what an adapter calls before it acknowledges the platform.

Text is cleaned, cut to a hard limit and redacted here, before the inbox stores it,
so no copy of a secret or personal detail reaches the database, the model or a log.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.events import Event, MessageEdited, MessagePosted
from bot.pipeline.inbox import Inbox
from triage.prompts import clean_text

__all__ = ["HARD_TEXT_LIMIT", "Intake"]

HARD_TEXT_LIMIT = 40_000  # stored text beyond this is noise; the model sees less anyway


class Intake:
    """Cleans, redacts and durably accepts events (implements `bot.pipeline.ports.Intake`)."""

    def __init__(self, inbox: Inbox, *, redact: Callable[[str], str] = str) -> None:
        self._inbox = inbox
        self._redact = redact

    async def submit(self, event: Event) -> bool:
        """Accept an event durably; False for a duplicate. Call before acknowledging."""
        if isinstance(event, MessagePosted):
            event = event.model_copy(update={"text": self._prepare(event.text)})
        elif isinstance(event, MessageEdited):
            event = event.model_copy(update={"new_text": self._prepare(event.new_text)})
        return await self._inbox.accept(event)

    def _prepare(self, text: str) -> str:
        return self._redact(clean_text(text)[:HARD_TEXT_LIMIT])
