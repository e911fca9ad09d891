"""The new-message flow, as small named steps.

  find the ticket (or open one) -> store the message -> over the rate? -> slow down
                                                     -> the ticket's first message? -> triage, reply
                                                     -> a mention in its thread? -> follow up
  -> refresh the summary when due (the outbox relay sends the replies meanwhile)

A mention is shown as seen (👀) as it is accepted (`bot.pipeline.seen`), so the asker
sees it within a second whatever the model's latency; the inbox takes the sign away as
it marks the event done, after the replies written here (the relay sends a thread's
replies in order).

The arrival (ticket found or opened, message stored) is `bot.flow.arrival`'s. Edits
and deletes of stored messages are mirrored here too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config.playbook import Playbooks
from bot.events import MessageDeleted, MessageEdited, MessagePosted, PostReply
from bot.flow import copy
from bot.flow.arrival import Arrival, Arrivals
from bot.flow.drafts import discard
from bot.flow.limits import BUDGET_REACHED, Limits
from bot.flow.replies import ThreadReplies
from bot.flow.summaries import Summaries
from bot.ops.logs import bind_log_context
from bot.ops.metrics import Metrics
from bot.pipeline.keys import budget_key, rate_key
from bot.pipeline.outbox import Outbox
from bot.store.models import Ticket, utcnow
from bot.tickets.erasure import apply_edit
from bot.tickets.queries import call_context, thread_place
from bot.tickets.sla import SlaPolicy
from bot.tickets.verdicts import store_verdict
from triage.classify import Classification, Classifier
from triage.route import Route, route_of

__all__ = ["MessageFlow"]

log = logging.getLogger(__name__)


class MessageFlow:
    """Turns posted messages into tickets, triage, answers and escalations."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        classifier: Classifier,
        replies: ThreadReplies,
        summaries: Summaries,
        limits: Limits,
        sla: SlaPolicy,
        confidence_threshold: float = 0.6,
        answer_while_triaging: bool = True,
        metrics: Metrics | None = None,
        playbooks: Playbooks | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._playbooks = playbooks or Playbooks()
        """Each workspace's playbook: its routing rules, teams, taxonomy and listening."""
        self._classifier = classifier
        self._replies = replies
        self._summaries = summaries
        self._limits = limits
        self._sla = sla
        self._confidence_threshold = confidence_threshold
        self._answer_while_triaging = answer_while_triaging
        self._metrics = metrics
        self._clock = clock
        self._arrivals = Arrivals(
            sessions=sessions,
            outbox=outbox,
            playbooks=self._playbooks,
            limits=limits,
            clock=clock,
        )

    async def on_posted(self, event: MessagePosted) -> list[str]:
        """Handle a posted message: its replies go to the outbox, then the summary.

        Bots arrive here only when their platform's adapter lets them through (Slack's
        SLACK_ALLOWED_BOT_IDS); the adapters drop every other bot, our own included.
        """
        arrival = await self._arrivals.arrive(event)
        if arrival.ticket is None:
            return arrival.keys
        ticket, event = arrival.ticket, arrival.event
        bind_log_context(ticket_id=ticket.id)  # the worker resets it after this event
        keys = await self._respond(arrival)  # the inbox takes the seen sign away after
        await self._summaries.refresh_if_due(ticket.id, seen=ticket.messages_since_summary)
        return keys

    async def on_edited(self, event: MessageEdited) -> list[str]:
        """Mirror an edit in the stored text."""
        await apply_edit(
            self._sessions, event.place, event.message_id, event.new_text, self._clock()
        )
        return []

    async def on_deleted(self, event: MessageDeleted) -> list[str]:
        """Erase a deleted message's stored text (and summaries that may quote it)."""
        await apply_edit(self._sessions, event.place, event.message_id, None, self._clock())
        return []

    # --- Steps ------------------------------------------------------------------

    async def _respond(self, arrival: Arrival) -> list[str]:
        ticket, event = arrival.ticket, arrival.event
        assert ticket is not None  # `on_posted` answers only messages on a ticket
        root = ticket.root_message_id == event.message_id
        if arrival.over_rate:
            return await self._slow_down(ticket.id, event, root=root)
        if root:
            return await self._triage_and_reply(ticket, event, opened=arrival.opened)
        if event.mentions_bot:
            return await self._replies.follow_up(ticket.id, event)
        return []

    async def _triage_and_reply(
        self, ticket: Ticket, event: MessagePosted, *, opened: bool
    ) -> list[str]:
        """Triage a new ticket once, then reply; a retry reuses the stored verdict.

        The chat answer is drafted while triage runs (both are a model round trip), so
        a ticket routed to an answer waits one round trip, not two; a verdict for a
        person or for the reasoner drops the draft. `ticket`: as the message's arrival
        just stored it; `opened`: that arrival opened it.
        """
        keys: list[str] = []
        ahead = None
        first_try = ticket.route is None
        feed = self._replies.live.feed(event.place.platform)
        if first_try:
            if self._answer_while_triaging:
                draft = self._replies.drafts.draft(
                    ticket, event, deep=False, feed=feed, just_opened=opened
                )
                ahead = asyncio.create_task(draft)
            try:
                classification = await self._classifier.classify(
                    event.text, context=call_context(ticket, "triage", event.author.user_id)
                )
                ticket = await self._store_triage(ticket, classification, event.text)
            except BaseException:
                await discard(ahead)
                raise
            self._count(classification)
            if classification.fallback_reason == BUDGET_REACHED:
                keys.append(await self._budget_notice(ticket))
        if ticket.route != Route.ANSWER:
            await discard(ahead)
            ahead = None
        if ticket.route == Route.HUMAN:
            return keys + await self._replies.handovers.escalate(ticket, event)
        deep = ticket.route == Route.REASONER
        return keys + await self._replies.answer(
            ticket, event, deep=deep, ahead=ahead, feed=feed, first_try=first_try
        )

    async def _slow_down(self, ticket_id: int, event: MessagePosted, *, root: bool) -> list[str]:
        """Over the per-user rate: one polite reply a minute, rules instead of the model."""
        keys = []
        if root:
            ticket = await self._ticket(ticket_id)
            if ticket.route is None:
                found = self._classifier.offline(
                    event.text, "user over the message rate", workspace_id=ticket.workspace_id
                )
                ticket = await self._store_triage(ticket, found, event.text)
            keys = await self._replies.handovers.escalate(ticket, event, quiet=True)
        key = rate_key(event.place.platform, event.author.user_id, self._clock())
        async with self._sessions.begin() as session:
            await self._outbox.add(
                session, key, PostReply(place=thread_place(event), text=copy.SLOW_DOWN)
            )
        return [*keys, key]

    async def _budget_notice(self, ticket: Ticket) -> str:
        """Tell the leads once a day that the workspace ran out of model budget."""
        key = budget_key(ticket.platform, ticket.workspace_id, self._clock())
        text = copy.budget_spent(self._limits.daily_budget_usd)
        return await self._replies.handovers.notify_leads(ticket, key, text)

    async def _store_triage(
        self, ticket: Ticket, classification: Classification, text: str
    ) -> Ticket:
        # The routing rules and teams are the ticket's workspace's own.
        playbook = self._playbooks.for_workspace(ticket.workspace_id)
        decision = route_of(classification, text, self._confidence_threshold, playbook)
        return await store_verdict(
            self._sessions,
            ticket.id,
            classification,
            decision,
            self._sla,
            self._clock(),
            playbook=playbook,
        )

    async def _ticket(self, ticket_id: int) -> Ticket:
        async with self._sessions() as session:
            return await session.get_one(Ticket, ticket_id)

    def _count(self, classification: Classification) -> None:
        if self._metrics is None:
            return
        if classification.source == "fallback":
            reason = (classification.fallback_reason or "unknown").split(":")[0]
            self._metrics.fallbacks.labels(reason).inc()
        if classification.corrected:
            self._metrics.corrections.inc()
