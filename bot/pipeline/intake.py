"""Intake: what an adapter calls before it acknowledges the platform.

Text is cleaned, cut to a hard limit and redacted here, before the inbox stores it,
so no copy of a secret or personal detail reaches the database, the model or a log.
A message that opens a ticket without a mention (a help channel's top-level message,
a new forum post) is marked here, from its workspace's listening, so its seen sign
is written with it like a mention's.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.config.playbook import Listening, Playbooks
from bot.events import Event, MessageEdited, MessagePosted
from bot.pipeline.inbox import Inbox
from triage.prompts import clean_text

__all__ = ["HARD_TEXT_LIMIT", "Intake", "opens_without_mention", "starts_conversation"]

HARD_TEXT_LIMIT = 40_000  # stored text beyond this is noise; the model sees less anyway


def starts_conversation(event: MessagePosted) -> bool:
    """A top-level message, or the first message of a forum post (Discord gives a
    post's first message the post's own id, so it is its thread's id)."""
    return event.place.thread_id in (None, event.message_id)


def opens_without_mention(event: MessagePosted, listening: Listening) -> bool:
    """Whether `event` is a new question the workspace takes without a mention: a
    person's (not a bot's) message with text that starts a conversation in a help or
    forum channel. A mention is no such message: it opens a ticket anyway."""
    return (
        not event.mentions_bot
        and not event.author.is_bot
        and bool(event.text.strip())
        and starts_conversation(event)
        and listening.opens_without_mention(event.place.channel_id)
    )


class Intake:
    """Cleans, redacts and durably accepts events (implements `bot.pipeline.ports.Intake`)."""

    def __init__(
        self,
        inbox: Inbox,
        *,
        redact: Callable[[str], str] = str,
        playbooks: Playbooks | None = None,
    ) -> None:
        self._inbox = inbox
        self._redact = redact
        self._playbooks = playbooks or Playbooks()

    async def submit(self, event: Event) -> bool:
        """Accept an event durably; False for a duplicate. Call before acknowledging."""
        if isinstance(event, MessagePosted):
            event = self._posted(event.model_copy(update={"text": self._prepare(event.text)}))
        elif isinstance(event, MessageEdited):
            event = event.model_copy(update={"new_text": self._prepare(event.new_text)})
        return await self._inbox.accept(event)

    def _posted(self, event: MessagePosted) -> MessagePosted:
        # Decided here whatever the adapter said: the playbook is the core's.
        listening = self._playbooks.for_workspace(event.place.workspace_id).listening
        opens = opens_without_mention(event, listening)
        return event.model_copy(update={"opens_without_mention": opens})

    def _prepare(self, text: str) -> str:
        return self._redact(clean_text(text)[:HARD_TEXT_LIMIT])
