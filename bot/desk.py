"""What the command desks share: their collaborators, the lead check, and how they answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.answers import Writer
from bot.events import ActionInvoked, Actor, CommandInvoked, Ephemeral, PostReply
from bot.outbox import Outbox
from bot.policy import is_lead
from bot.store.models import utcnow
from bot.summaries import Summaries

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
        lead_user_ids: list[str],
        lead_role_ids: list[str],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._summaries = summaries
        self._writer = writer
        self._lead_users = lead_user_ids
        self._lead_roles = lead_role_ids
        self._clock = clock

    def is_lead(self, actor: Actor) -> bool:
        """True when `actor` may work escalations."""
        return is_lead(actor, self._lead_users, self._lead_roles)

    async def _say(
        self, event: CommandInvoked | ActionInvoked, text: str, *, public: bool = False
    ) -> str:
        key = f"event:{event.place.platform}:{event.event_id}:reply"
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
