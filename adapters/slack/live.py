"""An answer shown on Slack while it is written: slack-sdk's chat stream helper.

`chat.startStream` opens the message with the first words, `chat.appendStream` adds
the rest in batches (at most one call per `every` seconds, so a fast model does not
spend the channel's rate budget), and `chat.stopStream` ends it. The finished answer
then replaces the message's content with `chat.update` (the outlet does that when it
delivers the answer, which names this message).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import escape
from bot.events import Actor, Place

__all__ = ["SlackLiveMessage"]

EVERY_SECONDS = 0.5


class SlackLiveMessage:
    """One streamed message in a ticket's thread; nothing is posted before `append`."""

    def __init__(
        self,
        client: AsyncWebClient,
        place: Place,
        requester: Actor,
        *,
        turn: Callable[[str], Awaitable[None]],
        every: float = EVERY_SECONDS,
    ) -> None:
        self._client = client
        self._place = place
        self._requester = requester
        self._turn = turn
        self._every = every
        self._stream: AsyncChatStream | None = None
        self._pending = ""
        self._sent_at = 0.0
        self._flusher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.message_id: str | None = None

    async def append(self, text: str) -> None:
        """Add `text`: the first words go at once, the rest in timed batches."""
        self._pending += escape(text)  # the model's text pings nobody while it streams
        if self._stream is None:
            await self._flush()
        elif self._flusher is None or self._flusher.done():
            wait = max(0.0, self._sent_at + self._every - time.monotonic())
            self._flusher = asyncio.create_task(self._flush_after(wait))

    async def _flush_after(self, wait: float) -> None:
        await asyncio.sleep(wait)
        await self._flush()

    async def _flush(self) -> None:
        async with self._lock:
            if not self._pending:
                return
            piece, self._pending = self._pending, ""
            if self._stream is None:
                await self._turn(self._place.channel_id)  # opening it is a post
                self._stream = await self._client.chat_stream(
                    channel=self._place.channel_id,
                    thread_ts=self._place.thread_id or "",
                    recipient_team_id=self._place.workspace_id,
                    recipient_user_id=self._requester.user_id,
                    buffer_size=1,  # the batching is ours, by time
                )
            await self._stream.append(markdown_text=piece)
            self.message_id = self._stream.ts
            self._sent_at = time.monotonic()

    async def finish(self) -> None:
        """Send what is pending and stop the stream (the answer replaces it next)."""
        await self._stop()

    async def abandon(self, note: str) -> None:
        """End what was shown with `note`."""
        await self._stop(f"\n\n_{escape(note)}_")

    async def _stop(self, tail: str = "") -> None:
        if self._flusher is not None and not self._flusher.done():
            if self._lock.locked():  # a batch is on its way: let it arrive first
                await self._flusher
            else:  # still waiting for its time: what it would send goes with the stop
                self._flusher.cancel()
        if self._stream is None:
            return
        async with self._lock:
            rest, self._pending = self._pending + tail, ""
            await self._stream.stop(markdown_text=rest or None)
