"""An answer shown on Discord while it is written: post the first words, then edit.

Discord has no streaming messages, so the text grows by edits, at most one every
`every` seconds (its per-route limits would otherwise slow every other send), up to
one message's 2,000 characters. The finished answer then replaces the content (the
outlet edits it in place, with the card and buttons, when it delivers the answer).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import discord

from adapters.discord.render import CONTENT_LIMIT, NO_PINGS, split_content
from adapters.discord.text import no_unfurl

__all__ = ["DiscordLiveMessage"]

EVERY_SECONDS = 1.0


class DiscordLiveMessage:
    """One message in a ticket's thread that grows as the answer is written."""

    def __init__(
        self,
        channel: Callable[[], Awaitable[discord.PartialMessageable]],
        *,
        every: float = EVERY_SECONDS,
    ) -> None:
        self._channel = channel
        self._every = every
        self._text = ""
        self._message: discord.PartialMessage | discord.Message | None = None
        self._shown = ""
        self._edited_at = 0.0
        self._editor: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.message_id: str | None = None

    async def append(self, text: str) -> None:
        """Add `text`: the first words are posted at once, the rest edited in."""
        self._text += text
        if self._message is None:
            await self._show()
        elif self._editor is None or self._editor.done():
            wait = max(0.0, self._edited_at + self._every - time.monotonic())
            self._editor = asyncio.create_task(self._show_after(wait))

    async def _show_after(self, wait: float) -> None:
        await asyncio.sleep(wait)
        await self._show()

    def _content(self, tail: str = "") -> str:
        # Links are bracketed, not suppressed: the finished answer's card embed must show.
        pieces = split_content(self._text + tail)
        return no_unfurl(pieces[0])[:CONTENT_LIMIT] if pieces else ""

    async def _show(self, tail: str = "") -> None:
        async with self._lock:
            content = self._content(tail)
            if not content.strip() or content == self._shown:
                return
            if self._message is None:
                channel = await self._channel()
                self._message = await channel.send(content=content, allowed_mentions=NO_PINGS)
                self.message_id = str(self._message.id)
            else:
                await self._message.edit(content=content, allowed_mentions=NO_PINGS)
            self._shown = content
            self._edited_at = time.monotonic()

    async def finish(self) -> None:
        """Stop editing: the finished answer replaces the content next."""
        if self._editor is not None and not self._editor.done():
            if self._lock.locked():
                await self._editor
            else:
                self._editor.cancel()

    async def abandon(self, note: str) -> None:
        """End what was shown with `note`."""
        await self.finish()
        if self._message is not None:
            await self._show(f"\n\n*{note}*")
