"""SupportService: the pipeline from an accepted event to replies.

Adapters call `submit()` (the inbox commits the event before they acknowledge);
the worker pool calls `process()`. Every reply goes through the outbox under a key
derived from its cause, so processing an event twice posts nothing twice.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.actions import LeadActions
from bot.answers import Writer
from bot.commands import CommandDesk
from bot.events import (
    ActionInvoked,
    CommandInvoked,
    Event,
    HomeOpened,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    Notify,
    Place,
    PostReply,
)
from bot.home import HomeDesk
from bot.inbox import Inbox
from bot.llm.types import CallContext
from bot.outbox import Outbox
from bot.policy import TicketStatus, sla_due
from bot.store.models import Message, Summary, Ticket, TriageRun, utcnow
from bot.summaries import Summaries
from bot.tickets import (
    add_message,
    audit,
    card_for,
    facts_of,
    find_ticket,
    get_or_open_ticket,
    latest_summary,
    place_of,
    thread_lines,
)
from triage.classify import Classification, Classifier
from triage.route import Route, RouteDecision, decide_route

__all__ = ["ServiceOptions", "SupportService", "clean_text"]

log = logging.getLogger(__name__)

EMPTY_HELP = (
    "Hi! Tell me what you need help with, in one message that mentions me, "
    "and I will open a ticket in its thread."
)
HARD_TEXT_LIMIT = 40_000  # stored text beyond this is noise; the model sees less anyway


def clean_text(text: str) -> str:
    """Drop control characters (keeping newlines and tabs) and unpaired surrogates."""
    text = text.encode("utf-8", "replace").decode("utf-8", "replace")
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


@dataclass(frozen=True)
class ServiceOptions:
    """The behaviour knobs the service needs, taken from Settings in the wiring."""

    confidence_threshold: float = 0.6
    human_brief: bool = False
    leads_channels: dict[str, str] = field(default_factory=dict)
    sla_high_minutes: int = 15
    sla_medium_minutes: int = 120
    sla_low_business_days: int = 1


class SupportService:
    """Turns events into tickets, triage, answers and escalations."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        inbox: Inbox,
        outbox: Outbox,
        classifier: Classifier,
        writer: Writer,
        commands: CommandDesk,
        actions: LeadActions,
        home: HomeDesk,
        summaries: Summaries,
        options: ServiceOptions,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self.inbox = inbox
        self.outbox = outbox
        self._classifier = classifier
        self._writer = writer
        self._commands = commands
        self._actions = actions
        self._home = home
        self._summaries = summaries
        self._options = options
        self._clock = clock

    async def submit(self, event: Event) -> bool:
        """Accept an event durably; False for a duplicate. Call before acknowledging."""
        return await self.inbox.accept(event)

    async def process(self, event: Event) -> None:
        """Handle one event from the inbox (idempotent: safe to run again)."""
        if isinstance(event, MessagePosted):
            await self._on_message(event)
        elif isinstance(event, MessageEdited):
            await self._on_edit(event.place, event.message_id, clean_text(event.new_text))
        elif isinstance(event, MessageDeleted):
            await self._on_edit(event.place, event.message_id, None)
        elif isinstance(event, CommandInvoked):
            await self.outbox.flush(await self._commands.command(event))
        elif isinstance(event, ActionInvoked):
            await self.outbox.flush(await self._actions.action(event))
        elif isinstance(event, HomeOpened):
            await self.outbox.flush(await self._home.home(event))

    # --- Messages -----------------------------------------------------------

    async def _on_message(self, event: MessagePosted) -> None:
        if event.author.is_bot:
            return
        text = clean_text(event.text)[:HARD_TEXT_LIMIT]
        thread_id = event.place.thread_id or event.message_id
        async with self._sessions.begin() as session:
            ticket = await find_ticket(session, event.place, thread_id)
            if ticket is None and not event.mentions_bot:
                return  # channel chatter is none of our business, and is not stored
            if ticket is None and not text.strip():
                keys = [await self._empty_mention(session, event, thread_id)]
                ticket_id = None
            else:
                ticket, opened = await get_or_open_ticket(
                    session,
                    event.place,
                    thread_id,
                    event.author.user_id,
                    event.message_id,
                    self._clock(),
                )
                await add_message(
                    session,
                    ticket,
                    message_id=event.message_id,
                    author_id=event.author.user_id,
                    text=text,
                    is_bot=False,
                    posted_at=event.posted_at,
                )
                ticket_id, keys = ticket.id, []
                if opened:
                    audit(
                        session,
                        actor=f"{event.place.platform}:{event.author.user_id}",
                        action="ticket.opened",
                        target=f"ticket:{ticket.id}",
                        at=self._clock(),
                    )
        if ticket_id is None:
            await self.outbox.flush(keys)
            return
        if ticket.root_message_id == event.message_id:
            keys = await self._triage_and_reply(ticket_id, event, text)
        elif event.mentions_bot:
            keys = await self._follow_up(ticket_id, event)
        await self.outbox.flush(keys)
        await self._summaries.refresh_if_due(ticket_id)

    async def _empty_mention(
        self, session: AsyncSession, event: MessagePosted, thread_id: str
    ) -> str:
        key = f"msg:{event.place.platform}:{event.message_id}:answer"
        place = event.place.model_copy(update={"thread_id": thread_id})
        await self.outbox.add(session, key, PostReply(place=place, text=EMPTY_HELP))
        return key

    def _context(self, ticket: Ticket, user_id: str | None = None) -> CallContext:
        return CallContext(
            purpose="triage", ticket_id=ticket.id, workspace_id=ticket.workspace_id, user_id=user_id
        )

    async def _triage_and_reply(self, ticket_id: int, event: MessagePosted, text: str) -> list[str]:
        """Triage a new ticket once, then reply; a retry reuses the stored verdict."""
        async with self._sessions() as session:
            ticket = await session.get_one(Ticket, ticket_id)
        if ticket.route is None:
            classification = await self._classifier.classify(
                text, context=self._context(ticket, event.author.user_id)
            )
            decision = decide_route(
                classification.result,
                source=classification.source,
                text=text,
                confidence_threshold=self._options.confidence_threshold,
            )
            ticket = await self._store_triage(ticket_id, classification, decision)
        if ticket.route == Route.HUMAN:
            return await self._escalate(ticket, event)
        return await self._answer(ticket, event, deep=ticket.route == Route.REASONER)

    async def _store_triage(
        self, ticket_id: int, classification: Classification, decision: RouteDecision
    ) -> Ticket:
        result, now = classification.result, self._clock()
        async with self._sessions.begin() as session:
            ticket = await session.get_one(Ticket, ticket_id, with_for_update=True)
            if ticket.route is not None:  # a previous attempt got this far already
                return ticket
            session.add(
                TriageRun(
                    ticket_id=ticket.id,
                    source=classification.source,
                    model=classification.model,
                    prompt_version=classification.prompt_version,
                    result=result.model_dump(mode="json"),
                    valid=True,
                    attempts=classification.llm_calls,
                    created_at=now,
                )
            )
            ticket.category, ticket.urgency = result.category.value, result.urgency.value
            ticket.needs_human, ticket.summary = result.needs_human, result.summary
            ticket.route, ticket.route_reason = decision.route.value, decision.reason
            if decision.route is Route.HUMAN:
                ticket.status, ticket.escalated_at = TicketStatus.ESCALATED, now
                ticket.sla_due_at = sla_due(
                    ticket.urgency,
                    now,
                    high_minutes=self._options.sla_high_minutes,
                    medium_minutes=self._options.sla_medium_minutes,
                    low_business_days=self._options.sla_low_business_days,
                )
                audit(
                    session,
                    actor="bot",
                    action="ticket.escalated",
                    target=f"ticket:{ticket.id}",
                    at=now,
                    reason=decision.reason,
                )
            audit(
                session,
                actor="bot",
                action="ticket.triaged",
                target=f"ticket:{ticket.id}",
                at=now,
                source=classification.source,
                route=decision.route.value,
                category=ticket.category,
                urgency=ticket.urgency,
            )
        log.info(
            "ticket.triaged ticket=%s source=%s route=%s",
            ticket.id,
            classification.source,
            decision.route.value,
        )
        return ticket

    async def _answer(self, ticket: Ticket, event: MessagePosted, *, deep: bool) -> list[str]:
        card_key = f"ticket:{ticket.id}:card"
        answer_key = f"msg:{event.place.platform}:{event.message_id}:answer"
        place = place_of(ticket)
        async with self._sessions.begin() as session:
            await self.outbox.add(
                session,
                card_key,
                PostReply(place=place, card=card_for(ticket)),
                ticket_id=ticket.id,
                is_card=True,
            )
        if not await self.outbox.has(answer_key):
            await self._write_answer(ticket, event, answer_key, deep=deep)
        return [card_key, answer_key]

    async def _write_answer(
        self, ticket: Ticket, event: MessagePosted, key: str, *, deep: bool
    ) -> None:
        async with self._sessions() as session:
            lines = await thread_lines(session, ticket, ticket.requester_id)
            summary = await latest_summary(session, ticket.id)
        reply = await self._writer.answer(
            facts_of(ticket),
            lines,
            summary.text if summary else None,
            deep=deep,
            context=self._context(ticket, event.author.user_id),
        )
        async with self._sessions.begin() as session:
            added = await self.outbox.add(
                session,
                key,
                PostReply(place=place_of(ticket), text=reply.text),
                ticket_id=ticket.id,
            )
            if added:
                await add_message(
                    session,
                    await session.get_one(Ticket, ticket.id),
                    message_id=f"bot:{key}",
                    author_id="bot",
                    text=reply.text,
                    is_bot=True,
                    posted_at=self._clock(),
                    reasoning=reply.reasoning,
                )

    async def _escalate(self, ticket: Ticket, event: MessagePosted) -> list[str]:
        place = place_of(ticket)
        card_key = f"ticket:{ticket.id}:card"
        note_key = f"msg:{event.place.platform}:{event.message_id}:answer"
        leads_key = f"ticket:{ticket.id}:escalation"
        note = (
            f"Thanks, this is ticket #{ticket.id}. I've passed it to the support team; "
            "a person will follow up in this thread."
        )
        leads = self._leads_place(ticket)
        async with self._sessions.begin() as session:
            await self.outbox.add(
                session,
                card_key,
                PostReply(place=place, card=card_for(ticket)),
                ticket_id=ticket.id,
                is_card=True,
            )
            await self.outbox.add(
                session, note_key, PostReply(place=place, text=note), ticket_id=ticket.id
            )
            if leads is not None:
                text = (
                    f"Escalated ticket #{ticket.id} ({ticket.urgency} {ticket.category}): "
                    f"{ticket.route_reason}"
                )
                await self.outbox.add(
                    session,
                    leads_key,
                    Notify(place=leads, text=text, ping_leads=True, card=card_for(ticket)),
                    ticket_id=ticket.id,
                    is_card=True,
                )
        keys = [card_key, note_key, leads_key]
        if leads is None:
            log.warning(
                "escalation.no_leads_channel ticket=%s platform=%s", ticket.id, ticket.platform
            )
        elif self._options.human_brief:
            keys.append(await self._brief(ticket, leads, event.author.user_id))
        return keys

    async def _brief(self, ticket: Ticket, leads: Place, user_id: str) -> str:
        key = f"ticket:{ticket.id}:brief"
        if await self.outbox.has(key):
            return key
        async with self._sessions() as session:
            lines = await thread_lines(session, ticket, ticket.requester_id)
        brief = await self._writer.brief(
            facts_of(ticket), lines, None, context=self._context(ticket, user_id)
        )
        if brief is not None:
            async with self._sessions.begin() as session:
                await self.outbox.add(
                    session,
                    key,
                    Notify(place=leads, text=f"Brief for ticket #{ticket.id}:\n{brief.text}"),
                    ticket_id=ticket.id,
                )
        return key

    def _leads_place(self, ticket: Ticket) -> Place | None:
        channels = self._options.leads_channels
        channel = channels.get(f"{ticket.platform}:{ticket.workspace_id}") or channels.get(
            ticket.platform
        )
        if channel is None:
            return None
        return Place(platform=ticket.platform, workspace_id=ticket.workspace_id, channel_id=channel)

    async def _follow_up(self, ticket_id: int, event: MessagePosted) -> list[str]:
        async with self._sessions.begin() as session:
            ticket = await session.get_one(Ticket, ticket_id)
            if ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
                ticket.status = TicketStatus.OPEN
                audit(
                    session,
                    actor=f"{event.place.platform}:{event.author.user_id}",
                    action="ticket.reopened",
                    target=f"ticket:{ticket.id}",
                    at=self._clock(),
                )
        key = f"msg:{event.place.platform}:{event.message_id}:answer"
        if ticket.status in (TicketStatus.ESCALATED, TicketStatus.CLAIMED):
            who = "The lead who claimed it" if ticket.assignee_id else "A person from the team"
            async with self._sessions.begin() as session:
                await self.outbox.add(
                    session,
                    key,
                    PostReply(
                        place=place_of(ticket),
                        text=f"{who} has ticket #{ticket.id} and will reply "
                        "here; I've added your message to it.",
                    ),
                    ticket_id=ticket.id,
                )
            return [key]
        if not await self.outbox.has(key):
            await self._write_answer(ticket, event, key, deep=ticket.route == Route.REASONER)
        return [key]

    async def _on_edit(self, place: Place, message_id: str, new_text: str | None) -> None:
        """Update (or erase, when `new_text` is None) a stored message's text."""
        now = self._clock()
        query = (
            select(Message)
            .join(Ticket, Message.ticket_id == Ticket.id)
            .where(
                Message.message_id == message_id,
                Ticket.platform == place.platform.value,
                Ticket.workspace_id == place.workspace_id,
                Ticket.channel_id == place.channel_id,
            )
        )
        async with self._sessions.begin() as session:
            for message in (await session.scalars(query)).all():
                message.text = new_text
                if new_text is not None:
                    message.edited_at = now
                    continue
                message.deleted_at = now
                # Summaries may quote the erased text: erase them too.
                await session.execute(
                    update(Summary).where(Summary.ticket_id == message.ticket_id).values(text=None)
                )
                audit(
                    session,
                    actor=f"{place.platform}:{message.author_id}",
                    action="message.erased",
                    target=f"ticket:{message.ticket_id}",
                    at=now,
                )
