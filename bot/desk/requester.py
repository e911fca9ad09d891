"""The requester's buttons: Solved and I need a person under an answer, and the rating.

The person who asked may press them all; a lead may press Solved and I need a person
too (the rating is the requester's own word). Anyone else is told so privately, and
the refusal is audited. Every change is audited with the press's event id, so a
retried press finishes its replies and changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.desk.base import RATING, DeskBase, already_applied, name_of
from bot.events import REQUESTER_ACTIONS, ActionInvoked, Notify, PostReply, TicketAction
from bot.flow import copy
from bot.pipeline.keys import note_key, person_key
from bot.store.audit import audit, who
from bot.store.models import Ticket
from bot.tickets.leads_channels import LeadsChannels
from bot.tickets.queries import get_ticket, place_of, same_workspace
from bot.tickets.sla import SlaPolicy
from bot.tickets.status import ESCALATION_STATES, FINISHED, StatusChange, change_status
from bot.tickets.teams import escalate_to_team, team_of, team_ping

__all__ = ["RequesterActions", "route_presses"]

Press = Callable[[ActionInvoked], Awaitable[list[str]]]


def route_presses(*, lead: Press, requester: Press) -> Press:
    """One handler for every button: the requester's to `requester`, the rest to `lead`."""

    async def press(event: ActionInvoked) -> list[str]:
        handler = requester if event.action in REQUESTER_ACTIONS else lead
        return await handler(event)

    return press


class RequesterActions(DeskBase):
    """Applies the requester's presses (and a lead's Solved / I need a person)."""

    def __init__(self, *, leads_channels: LeadsChannels, sla: SlaPolicy, **parts: Any) -> None:
        super().__init__(**parts)
        self._leads_channels = leads_channels
        self._sla = sla

    async def action(self, event: ActionInvoked) -> list[str]:
        """Apply Solved, I need a person or a rating; refuse anyone who may not."""
        async with self._sessions() as session:
            ticket = await get_ticket(session, event.ticket_id)
            done = ticket is not None and await already_applied(session, event)
        if ticket is None or not same_workspace(ticket, event.place):
            return [await self._say(event, copy.no_such_ticket(event.ticket_id))]
        rating = event.action in RATING
        if not self._may_press(event, ticket, rating=rating):
            text = copy.RATING_REQUESTER_ONLY if rating else copy.REQUESTER_BUTTONS_ONLY
            refused = await self._refuse(
                event, text, action="action.refused", target=f"ticket:{ticket.id}",
                requested=event.action,
            )  # fmt: skip
            return [refused]
        if rating:
            return [await self._rate(event)]
        if not done:
            change = self._solve if event.action is TicketAction.SOLVED else self._hand_to_person
            problem = await change(event, self._clock())
            if problem:
                return [await self._say(event, problem)]
        return await self._after_change(event)

    def _may_press(self, event: ActionInvoked, ticket: Ticket, *, rating: bool) -> bool:
        if event.actor.user_id == ticket.requester_id:
            return True
        return not rating and self.may_work(event.actor, ticket, event.place)

    async def _solve(self, event: ActionInvoked, now: datetime) -> str | None:
        async with self._sessions.begin() as session:
            ticket = await session.get_one(Ticket, event.ticket_id, with_for_update=True)
            if ticket.status in FINISHED:
                return copy.already_solved(ticket.id)
            change_status(
                session, ticket, StatusChange.RESOLVE, actor=who(event.actor), now=now,
                event=event.event_id, pressed="solved",
            )  # fmt: skip
        return None

    async def _hand_to_person(self, event: ActionInvoked, now: datetime) -> str | None:
        """Escalate (reopening a finished ticket first), with the requester's reason."""
        async with self._sessions.begin() as session:
            ticket = await session.get_one(Ticket, event.ticket_id, with_for_update=True)
            if ticket.status in ESCALATION_STATES:
                return copy.already_with_person(ticket.id)
            actor = who(event.actor)
            if ticket.status in FINISHED:
                change_status(session, ticket, StatusChange.REOPEN, actor=actor, now=now)
            team = team_of(self._playbooks, ticket)
            reason = ticket.route_reason = copy.REQUESTER_ASKED
            await escalate_to_team(session, ticket, team, sla=self._sla, now=now, reason=reason)
            audit(
                session, actor=actor, action="ticket.person_requested",
                target=f"ticket:{ticket.id}", at=now, event=event.event_id,
            )  # fmt: skip
        return None

    async def _after_change(self, event: ActionInvoked) -> list[str]:
        """The cards re-rendered, a note in the thread, and the leads told or the
        requester asked for a rating."""
        ticket, refs = await self._pressed(event)
        solved = event.action is TicketAction.SOLVED
        note = (
            copy.solved_note(name_of(event.actor)) if solved else copy.person_asked_note(ticket.id)
        )
        async with self._sessions.begin() as session:
            keys = await self._update_cards(session, event, ticket, refs)
            key = note_key(event)
            post = PostReply(place=place_of(ticket), text=note)
            await self._outbox.add(session, key, post, ticket_id=ticket.id)
            keys.append(key)
            team = team_of(self._playbooks, ticket)
            leads = self._leads_channels.place(
                ticket.platform, ticket.workspace_id, team.name if team else None
            )
            if not solved and leads is not None:
                key = person_key(event)
                card = self.card(ticket)
                notice = Notify(
                    place=leads,
                    text=copy.escalated_by_requester(ticket.id, card.urgency, card.category),
                    ping_leads=True,
                    team_ping=team_ping(team),
                    card=card,
                )
                await self._outbox.add(session, key, notice, ticket_id=ticket.id, is_card=True)
                keys.append(key)
            if solved:
                keys.append(await self._ask_rating(session, ticket))
        return keys

    async def _rate(self, event: ActionInvoked) -> str:
        good = event.action is TicketAction.RATE_GOOD
        async with self._sessions.begin() as session:
            ticket = await session.get_one(Ticket, event.ticket_id, with_for_update=True)
            now = self._clock()
            ticket.satisfaction, ticket.rated_at = ("good" if good else "bad"), now
            audit(
                session, actor=who(event.actor), action="ticket.rated",
                target=f"ticket:{ticket.id}", at=now, rating=ticket.satisfaction,
                event=event.event_id,
            )  # fmt: skip
        return await self._say(event, copy.rating_thanks(good))
