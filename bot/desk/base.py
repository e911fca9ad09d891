"""What the command desks share: their collaborators, the lead check, and how they answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.desk.leads import Leads
from bot.events import ActionInvoked, Actor, AnswerApproved, CommandInvoked, Ephemeral, PostReply
from bot.flow.answers import Writer
from bot.flow.summaries import Summaries
from bot.pipeline.keys import command_reply_key
from bot.pipeline.outbox import Outbox
from bot.store.audit import audit, who
from bot.store.models import utcnow

__all__ = ["DeskBase", "name_of"]


def name_of(actor: Actor) -> str:
    """A person's display name, or their id."""
    return actor.display_name or actor.user_id


class DeskBase:
    """Collaborators every desk needs, passed in by the wiring."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        summaries: Summaries,
        writer: Writer,
        leads: Leads,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._summaries = summaries
        self._writer = writer
        self._leads = leads
        self._clock = clock

    def is_lead(self, actor: Actor) -> bool:
        """True when `actor` may work escalations."""
        return self._leads.includes(actor)

    async def _refuse(
        self,
        event: CommandInvoked | ActionInvoked | AnswerApproved,
        text: str,
        *,
        action: str,
        target: str,
        **detail: Any,
    ) -> str:
        """Tell the caller no, privately, and audit the refusal (never with content)."""
        async with self._sessions.begin() as session:
            audit(
                session,
                actor=who(event.actor),
                action=action,
                target=target,
                at=self._clock(),
                **detail,
            )
        return await self._say(event, text)

    async def _say(
        self,
        event: CommandInvoked | ActionInvoked | AnswerApproved,
        text: str,
        *,
        public: bool = False,
    ) -> str:
        key = command_reply_key(event)
        reply: PostReply | Ephemeral
        if public:
            reply = PostReply(place=event.place, text=text, reply_handle=event.reply_handle)
        else:
            reply = Ephemeral(
                actor=event.actor, place=event.place, text=text, reply_handle=event.reply_handle
            )
        async with self._sessions.begin() as session:
            await self._outbox.add(session, key, reply)
        return key
