"""Lead actions on ticket cards: claim, resolve, reopen, reclassify, ask the reasoner.

Anyone but a lead is refused and audited. A change updates every card of the ticket
and is audited; a reclassification is also stored as a `human` triage run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.desk.base import DeskBase, already_applied, name_of
from bot.events import ActionInvoked, Category, PostReply, TicketAction, Urgency
from bot.flow import copy
from bot.pipeline.keys import note_key
from bot.store.audit import audit, who
from bot.store.models import Ticket, TriageRun
from bot.tickets.queries import (
    call_context,
    facts_of,
    get_ticket,
    place_of,
    same_workspace,
    thread_lines,
)
from bot.tickets.status import StatusChange, change_status

__all__ = ["LeadActions"]

STATUS_CHANGES = {
    TicketAction.CLAIM: StatusChange.CLAIM,
    TicketAction.RESOLVE: StatusChange.RESOLVE,
    TicketAction.REOPEN: StatusChange.REOPEN,
}


class LeadActions(DeskBase):
    """Applies lead button presses."""

    def __init__(
        self, *, on_resolved: Callable[[int], Awaitable[None]] | None = None, **parts: Any
    ) -> None:
        super().__init__(**parts)
        self._on_resolved = on_resolved

    async def action(self, event: ActionInvoked) -> list[str]:
        """Apply a lead's button press; refuse and audit anyone else."""
        now, target = self._clock(), f"ticket:{event.ticket_id}"
        if not self.is_lead(event.actor):
            text = copy.LEADS_ONLY_BUTTONS
            refused = await self._refuse(
                event, text, action="action.refused", target=target, requested=event.action
            )
            return [refused]
        async with self._sessions() as session:
            ticket = await get_ticket(session, event.ticket_id)
            done = ticket is not None and await already_applied(session, event)
        if ticket is None:
            return [await self._say(event, copy.no_such_ticket(event.ticket_id))]
        if not same_workspace(ticket, event.place):  # refused, audited, nothing told of it
            refused = await self._refuse(
                event,
                copy.no_such_ticket(event.ticket_id),
                action="action.refused",
                target=target,
                requested=event.action,
                reason="another workspace",
                workspace=event.place.workspace_id,
            )
            return [refused]
        if event.action is TicketAction.ASK_REASONER:
            return [await self._ask_reasoner(event, ticket)]
        if event.action is TicketAction.SAVE_ANSWER:  # the adapters open a form for this
            return [await self._say(event, copy.SAVE_ANSWER_USE_FORM)]
        if done:  # a retry of this very press: finish its card updates and note
            return await self._after_change(event)
        if event.action is TicketAction.RECLASSIFY:
            problem = await self._reclassify(event, now)
        else:
            problem = await self._transition(event, now)
        if problem:
            return [await self._say(event, problem)]
        keys = await self._after_change(event)
        if event.action is TicketAction.RESOLVE and self._on_resolved is not None:
            # The relay sends the card updates meanwhile: the lead sees the change while
            # the draft is being written.
            await self._on_resolved(event.ticket_id)
        return keys

    async def _transition(self, event: ActionInvoked, now: datetime) -> str | None:
        async with self._sessions.begin() as session:
            ticket = await session.get_one(Ticket, event.ticket_id, with_for_update=True)
            before = ticket.status
            changed = change_status(
                session,
                ticket,
                STATUS_CHANGES[event.action],
                actor=who(event.actor),
                now=now,
                assignee_id=event.actor.user_id,
                event=event.event_id,
            )
        return None if changed else copy.cannot_change(ticket.id, before, event.action)

    async def _reclassify(self, event: ActionInvoked, now: datetime) -> str | None:
        parsed = _parse_labels(event.value)
        if parsed is None:
            return copy.pick_labels()
        category, urgency = parsed
        async with self._sessions.begin() as session:
            ticket = await session.get_one(Ticket, event.ticket_id, with_for_update=True)
            before = {"category": ticket.category, "urgency": ticket.urgency}
            ticket.category = category or ticket.category
            ticket.urgency = urgency or ticket.urgency
            after = {
                "category": ticket.category,
                "urgency": ticket.urgency,
                "summary": ticket.summary,
                "needs_human": ticket.needs_human,
            }
            # A lead's label is ground truth for measuring triage quality.
            session.add(
                TriageRun(
                    ticket_id=ticket.id,
                    source="human",
                    model=None,
                    prompt_version=None,
                    result={**after, "previous": before, "by": who(event.actor)},
                    attempts=0,
                    created_at=now,
                )
            )
            audit(
                session,
                actor=who(event.actor),
                action="ticket.reclassified",
                target=f"ticket:{ticket.id}",
                at=now,
                before=before,
                after={"category": ticket.category, "urgency": ticket.urgency},
                event=event.event_id,
            )
        return None

    async def _after_change(self, event: ActionInvoked) -> list[str]:
        ticket, refs = await self._pressed(event)
        note = {
            TicketAction.CLAIM: copy.claimed_note(name_of(event.actor)),
            TicketAction.RESOLVE: copy.RESOLVED_NOTE,
            TicketAction.REOPEN: copy.REOPENED_NOTE,
        }.get(event.action)
        async with self._sessions.begin() as session:
            keys = await self._update_cards(session, event, ticket, refs)
            if note:
                key = note_key(event)
                post = PostReply(place=place_of(ticket), text=note)
                await self._outbox.add(session, key, post, ticket_id=ticket.id)
                keys.append(key)
            if event.action is TicketAction.RESOLVE:
                keys.append(await self._ask_rating(session, ticket))
        return keys

    async def _ask_reasoner(self, event: ActionInvoked, ticket: Ticket) -> str:
        async with self._sessions() as session:
            lines = await thread_lines(session, ticket, ticket.requester_id)
        context = call_context(ticket, "reasoner", event.actor.user_id)
        brief = await self._writer.brief(facts_of(ticket), lines, None, context=context)
        return await self._say(event, copy.reasoner_brief(ticket.id, brief.text if brief else None))


def _parse_labels(value: str | None) -> tuple[str | None, str | None] | None:
    """`bug`, `high`, `bug:high` or `urgency=high` -> (category, urgency); None if invalid."""
    if not value:
        return None
    category = urgency = None
    for part in value.replace(",", ":").split(":"):
        word = part.split("=")[-1].strip().lower().replace(" ", "_").replace("-", "_")
        if word in set(Category):
            category = word
        elif word in set(Urgency):
            urgency = word
        elif word:
            return None
    return (category, urgency) if category or urgency else None
