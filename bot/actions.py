"""Lead actions on ticket cards: claim, resolve, reopen, reclassify, ask the reasoner.

Anyone but a lead is refused and audited. A change updates every card of the ticket
and is audited; a reclassification is also stored as a `human` triage run.
"""

from __future__ import annotations

from datetime import datetime

from bot.desk import DeskBase, name_of
from bot.events import ActionInvoked, PostReply, UpdateCard
from bot.policy import next_status
from bot.store.models import Ticket, TriageRun
from bot.tickets import audit, call_context, card_for, facts_of, place_of, thread_lines, who
from triage.schema import Category, Urgency

__all__ = ["LeadActions"]

PAST_TENSE = {"claim": "ticket.claimed", "resolve": "ticket.resolved", "reopen": "ticket.reopened"}


class LeadActions(DeskBase):
    """Applies lead button presses."""

    async def action(self, event: ActionInvoked) -> list[str]:
        """Apply a lead's button press; refuse and audit anyone else."""
        now, target = self._clock(), f"ticket:{event.ticket_id}"
        if not self.is_lead(event.actor):
            async with self._sessions.begin() as session:
                audit(
                    session,
                    actor=who(event.actor),
                    action="action.refused",
                    target=target,
                    at=now,
                    requested=event.action,
                )
            return [await self._say(event, "Only support leads can use these buttons.")]
        async with self._sessions() as session:
            ticket = await session.get(Ticket, event.ticket_id)
        if ticket is None or ticket.platform != event.place.platform.value:
            return [await self._say(event, f"Ticket #{event.ticket_id} no longer exists.")]
        if event.action == "ask-reasoner":
            return [await self._ask_reasoner(event, ticket)]
        if event.action == "reclassify":
            problem = await self._reclassify(event, now)
        else:
            problem = await self._transition(event, now)
        if problem:
            return [await self._say(event, problem)]
        return await self._after_change(event)

    async def _transition(self, event: ActionInvoked, now: datetime) -> str | None:
        async with self._sessions.begin() as session:
            ticket = await session.get_one(Ticket, event.ticket_id, with_for_update=True)
            status = next_status(event.action, ticket.status)
            if status is None:
                return f"Ticket #{ticket.id} is {ticket.status}; it can't be {event.action}ed now."
            ticket.status = status
            if event.action == "claim":
                ticket.assignee_id, ticket.claimed_at = event.actor.user_id, now
            elif event.action == "resolve":
                ticket.resolved_at = now
            elif event.action == "reopen":
                ticket.resolved_at = ticket.closed_at = None
            audit(
                session,
                actor=who(event.actor),
                action=PAST_TENSE[event.action],
                target=f"ticket:{ticket.id}",
                at=now,
                status=status,
            )
        return None

    async def _reclassify(self, event: ActionInvoked, now: datetime) -> str | None:
        parsed = _parse_labels(event.value)
        if parsed is None:
            return (
                "Pick a category (billing, bug, feature_request, account, other) "
                "and/or an urgency (low, medium, high)."
            )
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
                    valid=True,
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
            )
        return None

    async def _after_change(self, event: ActionInvoked) -> list[str]:
        async with self._sessions() as session:
            ticket = await session.get_one(Ticket, event.ticket_id)
        refs = await self._outbox.card_refs(ticket.id)
        keys = []
        async with self._sessions.begin() as session:
            for index, ref in enumerate(refs):
                key = f"event:{event.place.platform}:{event.event_id}:card:{index}"
                await self._outbox.add(
                    session, key, UpdateCard(ref=ref, card=card_for(ticket)), ticket_id=ticket.id
                )
                keys.append(key)
            note = {
                "claim": f"A support lead ({name_of(event.actor)}) has claimed this ticket.",
                "resolve": "Marked as resolved. Mention me here if you need more help.",
                "reopen": "Reopened; the support team will take another look.",
            }.get(event.action)
            if note:
                key = f"event:{event.place.platform}:{event.event_id}:note"
                await self._outbox.add(
                    session, key, PostReply(place=place_of(ticket), text=note), ticket_id=ticket.id
                )
                keys.append(key)
        return keys

    async def _ask_reasoner(self, event: ActionInvoked, ticket: Ticket) -> str:
        async with self._sessions() as session:
            lines = await thread_lines(session, ticket, ticket.requester_id)
        context = call_context(ticket, "reasoner", event.actor.user_id)
        brief = await self._writer.brief(facts_of(ticket), lines, None, context=context)
        text = (
            f"Reasoner's brief for ticket #{ticket.id}:\n{brief.text}"
            if brief
            else "The reasoning model is not available right now (no API key, or it failed)."
        )
        return await self._say(event, text)


def _parse_labels(value: str | None) -> tuple[str | None, str | None] | None:
    """`bug`, `high`, `bug:high` or `urgency=high` -> (category, urgency); None if invalid."""
    if not value:
        return None
    category = urgency = None
    for part in value.replace(",", ":").split(":"):
        word = part.split("=")[-1].strip().lower().replace(" ", "_").replace("-", "_")
        if word in {c.value for c in Category}:
            category = word
        elif word in {u.value for u in Urgency}:
            urgency = word
        elif word:
            return None
    return (category, urgency) if category or urgency else None
