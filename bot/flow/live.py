"""Answers shown while the model writes them (streaming), through each platform's way.

The model's text goes into a `Feed` as it arrives. A feed shows nothing until a live
message is attached to it, which happens once the ticket's verdict says "answer" (a
draft written while triage runs may still be dropped), and it holds back text that
may yet turn out to be the grounded prompt's abstain marker. Nothing partial is
stored: the finished answer goes to the outbox naming the live message, and the
outlet puts it there in place. Showing is best effort: a platform that refuses a
piece stops the showing, never the answer.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bot.events import Actor, Place, Platform, TicketCard
from bot.flow.answers import ABSTAIN
from bot.pipeline.ports import LiveMessage, Streams

__all__ = ["Feed", "LiveAnswers"]

log = logging.getLogger(__name__)


def _may_abstain(text: str) -> bool:
    """True while `text` could still become the abstain marker, which is never shown."""
    head = text.strip().strip(".`*\"' ").upper()
    return len(head) <= len(ABSTAIN) and ABSTAIN.startswith(head)


class Feed:
    """The text of one answer as the model writes it, shown once a message is attached."""

    def __init__(self, *, limit: int) -> None:
        self.text = ""
        """Everything the model wrote so far (for this attempt)."""
        self.started_at: float | None = None
        """When the model's first text arrived (`time.monotonic()`); None before."""
        self.ended = False
        """The model has written the whole answer (it may not be stored yet)."""
        self._limit = limit
        self._live: LiveMessage | None = None
        self._shown = 0
        self._lock = asyncio.Lock()

    async def write(self, piece: str) -> None:
        """The model's next piece (`on_text` of a streamed call)."""
        if self.started_at is None:
            self.started_at = time.monotonic()
        self.text += piece
        await self._show()

    def end(self) -> None:
        """The model finished writing (`on_end` of a streamed call)."""
        self.ended = True

    async def attach(self, live: LiveMessage) -> None:
        """Start showing in `live`: what was written so far at once, then as it comes."""
        self._live = live
        await self._show()

    async def _show(self) -> None:
        if self._live is None or _may_abstain(self.text):
            return
        async with self._lock:  # pieces arrive in order; so must they be shown
            new = self.text[self._shown : self._limit]
            if not new or self._live is None:
                return
            self._shown += len(new)
            try:
                await self._live.append(new)
            except Exception as exc:  # the answer is still written and posted whole
                log.warning("answer.stream.stopped error=%s", type(exc).__name__)
                self._live = None


class LiveAnswers:
    """Which platforms can stream, and the opening and closing of live messages."""

    def __init__(self, *, enabled: bool = True, limit: int = 3000) -> None:
        self._enabled = enabled
        self._limit = limit
        self._streams: dict[Platform, Streams] = {}

    def attach(self, platform: Platform, streams: Streams) -> None:
        """Let answers on `platform` be shown while they are written."""
        self._streams[platform] = streams

    def feed(self, platform: Platform) -> Feed | None:
        """A feed for an answer on `platform`, or None when nothing is streamed there."""
        if not self._enabled or platform not in self._streams:
            return None
        return Feed(limit=self._limit)

    async def open(
        self, feed: Feed | None, place: Place, requester: Actor, card: TicketCard
    ) -> LiveMessage | None:
        """Attach a live message in `place` to `feed` (which may already hold text)."""
        if feed is None:
            return None
        try:
            live = await self._streams[place.platform].live(place, requester, card)
        except Exception as exc:  # no live message: the answer is posted whole
            log.warning("answer.stream.not_opened error=%s", type(exc).__name__)
            return None
        await feed.attach(live)
        return live

    @staticmethod
    async def finish(live: LiveMessage | None) -> str | None:
        """End the streaming; the id of the message the answer goes in, if one was shown."""
        if live is None:
            return None
        try:
            await live.finish()
        except Exception as exc:  # the finished answer still replaces what was shown
            log.warning("answer.stream.not_finished error=%s", type(exc).__name__)
        return live.message_id

    @staticmethod
    async def abandon(live: LiveMessage | None, note: str) -> None:
        """End what was shown with `note`: no answer will take its place."""
        if live is None or live.message_id is None:
            return
        try:
            await live.abandon(note)
        except Exception as exc:
            log.warning("answer.stream.not_abandoned error=%s", type(exc).__name__)
