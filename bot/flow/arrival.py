"""A posted message's arrival: its ticket found (or opened) and the message stored.

A mention opens a ticket where the workspace listens, so does a new question in a
channel that needs no mention; a mention elsewhere gets one note, channel chatter is
neither stored nor answered. The per-user rate is read in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config.playbook import Listening, Playbooks
from bot.events import MessagePosted, Platform, PostReply
from bot.flow import copy
from bot.flow.limits import Limits
from bot.flow.listening import not_here_reply
from bot.pipeline.keys import answer_key
from bot.pipeline.outbox import Outbox
from bot.store.audit import audit, who
from bot.store.models import Ticket
from bot.tickets.queries import (
    add_message,
    find_thread_ticket,
    find_ticket,
    get_or_open_ticket,
    place_of,
)

__all__ = ["Arrival", "Arrivals"]


def _asks(ticket: Ticket, event: MessagePosted) -> bool:
    """Whether the message asks for a reply: it opened its ticket, or it mentions us."""
    return ticket.root_message_id == event.message_id or event.mentions_bot


def _threads_may_pose(event: MessagePosted) -> bool:
    """Whether a top-level message may really be in a thread reported as a channel:
    only Discord's are (a Slack thread always comes with its `thread_ts`)."""
    return event.place.platform is Platform.DISCORD


@dataclass(frozen=True)
class Arrival:
    """A message placed on its ticket (or not: chatter, an empty mention)."""

    event: MessagePosted
    ticket: Ticket | None
    keys: list[str]
    opened: bool = False
    """The message opened its ticket: the thread is the question alone."""
    over_rate: bool = False
    """A message that asks for a reply, from someone over the per-user rate."""


class Arrivals:
    """Places posted messages on their tickets."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        playbooks: Playbooks,
        limits: Limits,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._playbooks = playbooks
        self._limits = limits
        self._clock = clock

    async def arrive(self, event: MessagePosted) -> Arrival:
        """Find the message's ticket (opening one for a mention, or for a new question
        where the workspace needs no mention) and store the message."""
        thread_id = event.place.thread_id or event.message_id
        async with self._sessions.begin() as session:
            # A top-level message starts its own thread, which has a ticket only if an
            # earlier delivery of it opened one: opening it finds that (`likely_new`).
            starts_thread = event.place.thread_id is None and not _threads_may_pose(event)
            ticket = None if starts_thread else await find_ticket(session, event.place, thread_id)
            if ticket is None and event.place.thread_id is None and _threads_may_pose(event):
                # An adapter that could not tell a thread from a channel (Discord, with the
                # thread not cached) sends the thread's id as the channel.
                ticket = await find_thread_ticket(session, event.place)
                if ticket is not None:
                    event = event.model_copy(update={"place": place_of(ticket)})
                    thread_id = ticket.thread_id
            # A ticket already open keeps working wherever it is; new ones only where the
            # workspace listens (a help channel's new message needs no mention there).
            listening = self._playbooks.for_workspace(event.place.workspace_id).listening
            if ticket is None and not listening.allows(event.place.channel_id):
                return Arrival(event, None, await self._not_here(session, event, listening))
            if ticket is None and not (event.mentions_bot or event.opens_without_mention):
                return Arrival(event, None, [])  # channel chatter is not ours, and not stored
            if ticket is None and not event.text.strip():
                return Arrival(event, None, [await self._empty_mention(session, event, thread_id)])
            ticket, opened = await self._store(session, event, thread_id, ticket)
            # Read in this transaction: one turn of the database connection, not two.
            over_rate = _asks(ticket, event) and await self._limits.over_rate(
                event.place.platform.value, event.author.user_id, session=session
            )
        return Arrival(event, ticket, [], opened=opened, over_rate=over_rate)

    async def _not_here(
        self, session: AsyncSession, event: MessagePosted, listening: Listening
    ) -> list[str]:
        """A mention where the bot takes no tickets: one note; anything else there is
        not ours."""
        if not event.mentions_bot:
            return []
        note = not_here_reply(event, listening)
        await self._outbox.add(session, note.key, note)
        return [note.key]

    async def _store(
        self, session: AsyncSession, event: MessagePosted, thread_id: str, ticket: Ticket | None
    ) -> tuple[Ticket, bool]:
        """Store the message on its ticket, opening it if need be; True when it opened."""
        opened = False
        if ticket is None:
            ticket, opened = await get_or_open_ticket(
                session,
                event.place,
                thread_id,
                event.author.user_id,
                event.message_id,
                self._clock(),
                likely_new=True,  # `_arrive` found none there, or the message starts it
            )
        await add_message(
            session,
            ticket,
            message_id=event.message_id,
            author_id=event.author.user_id,
            text=event.text,  # cleaned and redacted by the intake
            is_bot=False,
            posted_at=event.posted_at,
        )
        if opened:
            audit(
                session,
                actor=who(event.author),
                action="ticket.opened",
                target=f"ticket:{ticket.id}",
                at=self._clock(),
            )
        return ticket, opened

    async def _empty_mention(
        self, session: AsyncSession, event: MessagePosted, thread_id: str
    ) -> str:
        key = answer_key(event)
        place = event.place.model_copy(update={"thread_id": thread_id})
        await self._outbox.add(session, key, PostReply(place=place, text=copy.EMPTY_MENTION))
        return key
