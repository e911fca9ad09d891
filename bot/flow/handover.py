"""Handing a ticket to people: escalation cards, the requester's note, the leads' notices.

When triage asks for a person, when no answer can be written, or when the docs do not
cover a question, the ticket goes to the leads: its card in the thread (with a note
to the requester, in one message for a new ticket), and a card in the leads channel,
each once under its key. A ticket of a playbook team goes to that team's leads
channel (when it has one) and is due by the team's SLA.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config.playbook import Playbook, Playbooks
from bot.events import MessagePosted, Notify, Place, PostReply, TicketCard
from bot.flow import copy
from bot.flow.answers import Writer
from bot.flow.grounding import Found, Grounding, Outcome
from bot.pipeline.keys import answer_key, brief_key, card_key, escalation_key
from bot.pipeline.outbox import Outbox
from bot.store.models import Ticket, utcnow
from bot.tickets.cards import card_for
from bot.tickets.leads_channels import LeadsChannels
from bot.tickets.queries import call_context, facts_of, place_of, thread_lines
from bot.tickets.sla import SlaPolicy
from bot.tickets.teams import escalate_to_team, team_of, team_ping

__all__ = ["Handovers"]

log = logging.getLogger(__name__)


def _reason_name(reason: str) -> str:
    return "not_in_docs" if reason == copy.NOT_IN_DOCS else "no_answer"


class Handovers:
    """Writes the replies that hand a ticket to the leads."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        writer: Writer,
        leads_channels: LeadsChannels,
        human_brief: bool = False,
        sla: SlaPolicy | None = None,
        grounding: Grounding | None = None,
        playbooks: Playbooks | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self.outbox = outbox
        self._writer = writer
        self._leads_channels = leads_channels
        self._human_brief = human_brief
        self._sla = sla or SlaPolicy()
        self._grounding = grounding
        self._playbooks = playbooks or Playbooks()
        self._clock = clock

    def playbook(self, ticket: Ticket) -> Playbook:
        """The playbook of the ticket's workspace."""
        return self._playbooks.for_workspace(ticket.workspace_id)

    def card(self, ticket: Ticket) -> TicketCard:
        """The ticket's card, labelled by its workspace's taxonomy."""
        return card_for(ticket, self.playbook(ticket))

    async def _add_card(self, session: AsyncSession, ticket: Ticket) -> str:
        """The ticket card in its thread, once."""
        key = card_key(ticket.id)
        card = PostReply(place=place_of(ticket), card=self.card(ticket))
        await self.outbox.add(session, key, card, ticket_id=ticket.id, is_card=True)
        return key

    async def abstain(self, ticket: Ticket, event: MessagePosted, found: Found) -> list[str]:
        """The docs don't answer this: say so and hand the ticket to a person."""
        assert self._grounding is not None
        await self._grounding.record(ticket.id, Outcome.ABSTAINED, found)
        log.info("ticket.abstained ticket=%s retrieved=%s", ticket.id, len(found.retrieved))
        return await self.hand_over(
            ticket, event, reason=copy.NOT_IN_DOCS, note=copy.not_in_docs_note(ticket.id)
        )

    async def hand_over(
        self,
        ticket: Ticket,
        event: MessagePosted,
        *,
        reason: str = copy.NO_ANSWER,
        note: str | None = None,
        found: Found | None = None,
    ) -> list[str]:
        """Triage said answer, but no answer could (or should) be written: escalate with
        the card, so the requester is never told "a person will follow up" with no
        person told."""
        async with self._sessions.begin() as session:
            row = await session.get_one(Ticket, ticket.id, with_for_update=True)
            team = team_of(self._playbooks, row)
            now = self._clock()
            if await escalate_to_team(session, row, team, sla=self._sla, now=now, reason=reason):
                row.route_reason = reason
        async with self._sessions() as session:
            ticket = await session.get_one(Ticket, ticket.id)
        log.warning("ticket.escalated ticket=%s reason=%s", ticket.id, _reason_name(reason))
        return await self.escalate(ticket, event, note=note, found=found)

    async def escalate(
        self,
        ticket: Ticket,
        event: MessagePosted,
        *,
        quiet: bool = False,
        note: str | None = None,
        found: Found | None = None,
    ) -> list[str]:
        """Card in the thread, a note to the user (unless `quiet`), a card to the leads.

        With no model to answer (no key, budget spent, a failed call), the note lists
        the docs pages that may help; `found` is what a failed answer already retrieved.
        """
        place = place_of(ticket)
        note_key = answer_key(event)
        leads_key = escalation_key(ticket.id)
        # A new ticket's card and the note go in one message (written once, under the
        # card's key); a later hand-over, from a follow-up, adds only its note.
        merge = not quiet and ticket.root_message_id == event.message_id
        reply = PostReply(place=place, text=note or copy.escalated_note(ticket.id))
        written = card_key(ticket.id) if merge else note_key
        if note is None and not quiet and not await self.outbox.has(written):
            reply = await self._with_suggestions(ticket, event, reply, found)
        leads = self._leads_place(ticket)
        async with self._sessions.begin() as session:
            if merge:
                thread_key = card_key(ticket.id)
                merged = reply.model_copy(update={"card": self.card(ticket)})
                await self.outbox.add(
                    session, thread_key, merged, ticket_id=ticket.id, is_card=True
                )
            else:
                thread_key = await self._add_card(session, ticket)
                if not quiet:
                    await self.outbox.add(session, note_key, reply, ticket_id=ticket.id)
            if leads is not None:
                card = self.card(ticket)
                text = copy.escalation_notice(
                    ticket.id, card.urgency, card.category, ticket.route_reason or "", card.team
                )
                await self.outbox.add(
                    session,
                    leads_key,
                    Notify(
                        place=leads,
                        text=text,
                        ping_leads=True,
                        team_ping=team_ping(team_of(self._playbooks, ticket)),
                        card=card,
                    ),
                    ticket_id=ticket.id,
                    is_card=True,
                )
        keys = [thread_key, leads_key] if merge else [thread_key, note_key, leads_key]
        if leads is None:
            log.warning(
                "escalation.no_leads_channel ticket=%s platform=%s", ticket.id, ticket.platform
            )
        elif self._human_brief and not quiet:
            keys.append(await self._brief(ticket, leads, event.author.user_id))
        return keys

    async def _with_suggestions(
        self, ticket: Ticket, event: MessagePosted, reply: PostReply, found: Found | None
    ) -> PostReply:
        if self._grounding is None:
            return reply
        context = call_context(ticket, "answer", event.author.user_id)
        if found is None and await self._writer.available(context):
            return reply  # a person was asked for on purpose; the model could have answered
        suggested = await self._grounding.suggestions(ticket, event.text, found)
        if suggested is None:
            return reply
        passages, links = suggested
        text = copy.suggestions(ticket.id, passages)
        return reply.model_copy(update={"text": text, "sources": links})

    async def notify_leads(self, ticket: Ticket, key: str, text: str) -> str:
        """A one-off notice to the ticket's workspace's leads channel, once per key."""
        leads = self._leads_channels.place(ticket.platform, ticket.workspace_id)
        if leads is not None:
            async with self._sessions.begin() as session:
                await self.outbox.add(session, key, Notify(place=leads, text=text))
        return key

    async def _brief(self, ticket: Ticket, leads: Place, user_id: str) -> str:
        key = brief_key(ticket.id)
        if await self.outbox.has(key):
            return key
        async with self._sessions() as session:
            lines = await thread_lines(session, ticket, ticket.requester_id)
        brief = await self._writer.brief(
            facts_of(ticket), lines, None, context=call_context(ticket, "reasoner", user_id)
        )
        if brief is not None:
            async with self._sessions.begin() as session:
                await self.outbox.add(
                    session,
                    key,
                    Notify(place=leads, text=copy.brief_notice(ticket.id, brief.text)),
                    ticket_id=ticket.id,
                )
        return key

    def _leads_place(self, ticket: Ticket) -> Place | None:
        """The ticket's team's leads channel, else its workspace's."""
        team = team_of(self._playbooks, ticket)
        name = team.name if team is not None else None
        return self._leads_channels.place(ticket.platform, ticket.workspace_id, name)
