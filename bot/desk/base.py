"""What the command desks share: their collaborators, the lead check, and how they answer.

A lead of the desk may work every ticket of the workspace; a playbook team's lead
may work that team's tickets (`may_work`), looked up in the ticket's own workspace.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config.playbook import Playbook, Playbooks
from bot.desk.leads import Leads
from bot.events import (
    ActionInvoked,
    Actor,
    AnswerApproved,
    Buttons,
    CardRef,
    CommandInvoked,
    Ephemeral,
    Place,
    PostReply,
    TicketAction,
    TicketCard,
    UpdateCard,
)
from bot.flow import copy
from bot.flow.answers import Writer
from bot.flow.summaries import Summaries
from bot.pipeline.keys import card_update_key, command_reply_key, rating_key
from bot.pipeline.outbox import Outbox
from bot.pipeline.posted import posted_cards
from bot.store.audit import audit, who
from bot.store.models import AuditEntry, Ticket, utcnow
from bot.tickets.cards import card_for
from bot.tickets.queries import place_of, same_workspace
from bot.tickets.teams import team_of

__all__ = ["DeskBase", "already_applied", "name_of"]

RATING = (TicketAction.RATE_GOOD, TicketAction.RATE_BAD)


async def already_applied(session: AsyncSession, event: ActionInvoked) -> bool:
    """True when this press (by event id) already changed the ticket: a retry."""
    found = await session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.target == f"ticket:{event.ticket_id}",
            AuditEntry.detail["event"].as_string() == event.event_id,
        )
    )
    return found is not None


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
        playbooks: Playbooks | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._summaries = summaries
        self._writer = writer
        self._leads = leads
        self._playbooks = playbooks or Playbooks()
        self._clock = clock

    def is_lead(self, actor: Actor) -> bool:
        """True when `actor` is one of the desk's leads (who may work any escalation)."""
        return self._leads.includes(actor)

    def may_work(self, actor: Actor, ticket: Ticket | None, place: Place) -> bool:
        """True when `actor` may work `ticket` as a lead: a desk lead, or a lead of the
        ticket's team pressing in the ticket's own workspace."""
        if self.is_lead(actor):
            return True
        if ticket is None or not same_workspace(ticket, place):
            return False
        team = team_of(self._playbooks, ticket)
        return team is not None and Leads.of_team(team).includes(actor)

    def playbook(self, workspace_id: str) -> Playbook:
        """The playbook of a workspace."""
        return self._playbooks.for_workspace(workspace_id)

    def card(self, ticket: Ticket) -> TicketCard:
        """The ticket's card, labelled by its workspace's taxonomy."""
        return card_for(ticket, self.playbook(ticket.workspace_id))

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

    async def _pressed(self, event: ActionInvoked) -> tuple[Ticket, list[CardRef]]:
        """The pressed ticket as it is now, and every card posted for it."""
        async with self._sessions() as session:
            ticket = await session.get_one(Ticket, event.ticket_id)
            return ticket, await posted_cards(session, ticket.id)

    async def _update_cards(
        self, session: AsyncSession, event: ActionInvoked, ticket: Ticket, refs: list[CardRef]
    ) -> list[str]:
        """Re-render every posted card of the pressed ticket, in the caller's transaction."""
        keys = []
        for index, ref in enumerate(refs):
            key = card_update_key(event, index)
            update = UpdateCard(ref=ref, card=self.card(ticket))
            await self._outbox.add(session, key, update, ticket_id=ticket.id)
            keys.append(key)
        return keys

    async def _ask_rating(self, session: AsyncSession, ticket: Ticket) -> str:
        """Once per ticket, when it is resolved: the requester is asked to rate it."""
        key = rating_key(ticket.id)
        ask = PostReply(
            place=place_of(ticket),
            text=copy.rating_ask(ticket.id),
            buttons=Buttons(ticket_id=ticket.id, actions=RATING),
        )
        await self._outbox.add(session, key, ask, ticket_id=ticket.id)
        return key
