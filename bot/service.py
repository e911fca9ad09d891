"""SupportService: the pipeline from an accepted event to replies.

Adapters call `submit()` (the inbox commits the event before they acknowledge);
the worker pool calls `process()`. Every reply goes through the outbox under a key
derived from its cause, so processing an event twice posts nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.actions import LeadActions
from bot.commands import CommandDesk
from bot.edits import apply_edit
from bot.events import (
    ActionInvoked,
    CommandInvoked,
    Event,
    HomeOpened,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    Place,
    PostReply,
)
from bot.home import HomeDesk
from bot.inbox import Inbox
from bot.limits import BUDGET_REACHED, Limits
from bot.logs import bind_log_context
from bot.metrics import Metrics
from bot.outbox import Outbox
from bot.privacy import Redactor
from bot.replies import ThreadReplies
from bot.store.models import Ticket, utcnow
from bot.summaries import Summaries
from bot.tickets import (
    add_message,
    answer_key,
    audit,
    call_context,
    find_thread_ticket,
    find_ticket,
    get_or_open_ticket,
    place_of,
    thread_place,
    who,
)
from bot.verdicts import store_verdict
from triage.classify import Classification, Classifier
from triage.prompts import clean_text
from triage.route import Route, decide_route

__all__ = ["ServiceOptions", "SupportService"]

log = logging.getLogger(__name__)

EMPTY_HELP = (
    "Hi! Tell me what you need help with, in one message that mentions me, "
    "and I will open a ticket in its thread."
)
SLOW_DOWN = (
    "You're sending messages faster than I can keep up with. I've saved them all, and a "
    "person from the support team will read them; no need to repeat anything."
)
HARD_TEXT_LIMIT = 40_000  # stored text beyond this is noise; the model sees less anyway


@dataclass(frozen=True)
class ServiceOptions:
    """The behaviour knobs the service needs, taken from Settings in the wiring."""

    confidence_threshold: float = 0.6
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
        replies: ThreadReplies,
        commands: CommandDesk,
        actions: LeadActions,
        home: HomeDesk,
        summaries: Summaries,
        limits: Limits,
        options: ServiceOptions,
        redactor: Redactor | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self.inbox = inbox
        self.outbox = outbox
        self._classifier = classifier
        self._replies = replies
        self._commands = commands
        self._actions = actions
        self._home = home
        self._summaries = summaries
        self._limits = limits
        self._redact = redactor.redact if redactor is not None else str
        self._metrics = metrics
        self._options = options
        self._clock = clock

    async def submit(self, event: Event) -> bool:
        """Accept an event durably; False for a duplicate. Call before acknowledging.

        Text is cleaned and redacted here, before the inbox stores it, so no copy of a
        secret or personal detail reaches the database, the model or a log line.
        """
        if isinstance(event, MessagePosted):
            event = event.model_copy(update={"text": self._prepare(event.text)})
        elif isinstance(event, MessageEdited):
            event = event.model_copy(update={"new_text": self._prepare(event.new_text)})
        return await self.inbox.accept(event)

    def _prepare(self, text: str) -> str:
        return self._redact(clean_text(text)[:HARD_TEXT_LIMIT])

    async def process(self, event: Event) -> None:
        """Handle one event from the inbox (idempotent: safe to run again)."""
        if isinstance(event, MessagePosted):
            await self._on_message(event)
        elif isinstance(event, MessageEdited):
            await self._on_edit(event.place, event.message_id, event.new_text)
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
        text = event.text  # cleaned and redacted by submit()
        thread_id = event.place.thread_id or event.message_id
        async with self._sessions.begin() as session:
            ticket = await find_ticket(session, event.place, thread_id)
            if ticket is None and event.place.thread_id is None:
                # An adapter that could not tell a thread from a channel (Discord, with the
                # thread not cached) sends the thread's id as the channel.
                ticket = await find_thread_ticket(session, event.place)
                if ticket is not None:
                    event = event.model_copy(update={"place": place_of(ticket)})
                    thread_id = ticket.thread_id
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
                        actor=who(event.author),
                        action="ticket.opened",
                        target=f"ticket:{ticket.id}",
                        at=self._clock(),
                    )
        if ticket_id is None:
            await self.outbox.flush(keys)
            return
        bind_log_context(ticket_id=ticket_id)  # the worker resets it after this event
        root = ticket.root_message_id == event.message_id
        if (root or event.mentions_bot) and await self._limits.over_rate(
            event.place.platform.value, event.author.user_id
        ):
            keys = await self._slow_down(ticket_id, event, text, root=root)
        elif root:
            keys = await self._triage_and_reply(ticket_id, event, text)
        elif event.mentions_bot:
            keys = await self._replies.follow_up(ticket_id, event)
        await self.outbox.flush(keys)
        await self._summaries.refresh_if_due(ticket_id)

    async def _empty_mention(
        self, session: AsyncSession, event: MessagePosted, thread_id: str
    ) -> str:
        key = answer_key(event)
        place = event.place.model_copy(update={"thread_id": thread_id})
        await self.outbox.add(session, key, PostReply(place=place, text=EMPTY_HELP))
        return key

    async def _triage_and_reply(self, ticket_id: int, event: MessagePosted, text: str) -> list[str]:
        """Triage a new ticket once, then reply; a retry reuses the stored verdict."""
        async with self._sessions() as session:
            ticket = await session.get_one(Ticket, ticket_id)
        keys: list[str] = []
        if ticket.route is None:
            classification = await self._classifier.classify(
                text, context=call_context(ticket, "triage", event.author.user_id)
            )
            ticket = await self._store_triage(ticket_id, classification, text)
            self._count(classification)
            if classification.fallback_reason == BUDGET_REACHED:
                keys.append(await self._budget_notice(ticket))
        if ticket.route == Route.HUMAN:
            return keys + await self._replies.escalate(ticket, event)
        return keys + await self._replies.answer(ticket, event, deep=ticket.route == Route.REASONER)

    def _count(self, classification: Classification) -> None:
        if self._metrics is None:
            return
        if classification.source == "fallback":
            reason = (classification.fallback_reason or "unknown").split(":")[0]
            self._metrics.fallbacks.labels(reason).inc()
        if classification.corrected:
            self._metrics.corrections.inc()

    async def _budget_notice(self, ticket: Ticket) -> str:
        """Tell the leads once a day that the workspace ran out of model budget."""
        day = f"{self._clock():%Y-%m-%d}"
        key = f"budget:{ticket.platform}:{ticket.workspace_id}:{day}"
        text = (
            f"The daily model budget (${self._limits.daily_budget_usd}) is used up for this "
            "workspace: until midnight UTC, triage runs on rules, no answers are written, "
            "and every new ticket comes to you."
        )
        return await self._replies.notify_leads(ticket, key, text)

    async def _slow_down(
        self, ticket_id: int, event: MessagePosted, text: str, *, root: bool
    ) -> list[str]:
        """Over the per-user rate: one polite reply a minute, rules instead of the model."""
        keys = []
        if root:
            async with self._sessions() as session:
                ticket = await session.get_one(Ticket, ticket_id)
            if ticket.route is None:
                found = self._classifier.offline(text, "user over the message rate")
                ticket = await self._store_triage(ticket_id, found, text)
            keys = await self._replies.escalate(ticket, event, quiet=True)
        minute = f"{self._clock():%Y%m%d%H%M}"
        key = f"rate:{event.place.platform}:{event.author.user_id}:{minute}"
        async with self._sessions.begin() as session:
            await self.outbox.add(
                session, key, PostReply(place=thread_place(event), text=SLOW_DOWN)
            )
        return [*keys, key]

    async def _store_triage(
        self, ticket_id: int, classification: Classification, text: str
    ) -> Ticket:
        decision = decide_route(
            classification.result,
            source=classification.source,
            text=text,
            confidence_threshold=self._options.confidence_threshold,
        )
        return await store_verdict(
            self._sessions, ticket_id, classification, decision, self._options, self._clock()
        )

    async def _on_edit(self, place: Place, message_id: str, new_text: str | None) -> None:
        await apply_edit(self._sessions, place, message_id, new_text, self._clock())
