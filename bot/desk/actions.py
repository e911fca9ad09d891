"""Lead actions on ticket cards: claim, resolve, reopen, reclassify, ask the reasoner.

Anyone but a lead (of the desk, or of the ticket's team) is refused and audited. A
change updates every card of the ticket and is audited; a reclassification is also
stored as a `human` triage run. Labels are the workspace's taxonomy's: a category it
does not have is refused with the ones it has. A reclassified ticket keeps its team
(routing rules decide a team once, at triage; moving a ticket between teams is a
lead's call, not a side effect of relabelling it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.config.taxonomy import Taxonomy, normal_name
from bot.desk.base import DeskBase, already_applied, name_of
from bot.events import ActionInvoked, PostReply, TicketAction
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

__all__ = ["LeadActions", "UnknownLabel", "parse_labels"]

STATUS_CHANGES = {
    TicketAction.CLAIM: StatusChange.CLAIM,
    TicketAction.RESOLVE: StatusChange.RESOLVE,
    TicketAction.REOPEN: StatusChange.REOPEN,
}


class UnknownLabel(ValueError):
    """A reclassification names a label the workspace's taxonomy does not have."""

    def __init__(self, word: str) -> None:
        super().__init__(word)
        self.word = word


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
        async with self._sessions() as session:
            ticket = await get_ticket(session, event.ticket_id)
            done = ticket is not None and await already_applied(session, event)
        if not self.may_work(event.actor, ticket, event.place):
            text = copy.LEADS_ONLY_BUTTONS
            refused = await self._refuse(
                event, text, action="action.refused", target=target, requested=event.action
            )
            return [refused]
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
        taxonomy = self.playbook(event.place.workspace_id).taxonomy  # the ticket's workspace
        try:
            parsed = parse_labels(event.value, taxonomy)
        except UnknownLabel as exc:
            return copy.unknown_label(exc.word, taxonomy)
        if parsed is None:
            return copy.pick_labels(taxonomy)
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


def parse_labels(value: str | None, taxonomy: Taxonomy) -> tuple[str | None, str | None] | None:
    """`bug`, `high`, `bug:high`, `category=bug` or `urgency=high` -> (category, urgency),
    in the workspace's `taxonomy` (a category's old name gives today's); None when empty.

    A bare word is a category when the taxonomy has one of that name, else an urgency.

    Raises:
        UnknownLabel: a word is neither (or not what its `category=`/`urgency=` says).
    """
    category = urgency = None
    for part in (value or "").replace(",", ":").split(":"):
        kind, _, word = part.rpartition("=")
        kind, word = normal_name(kind), word.strip()
        if not word:
            continue
        found = taxonomy.canonical(word) if kind in ("", "category") else None
        level = taxonomy.urgency(word) if kind in ("", "urgency") and found is None else None
        if found is not None:
            category = found
        elif level is not None:
            urgency = level.name
        else:
            raise UnknownLabel(word)
    return (category, urgency) if category or urgency else None
