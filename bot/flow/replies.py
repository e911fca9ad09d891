"""The bot's answers in a ticket's thread: a new ticket's first reply, follow-ups.

Each reply is written to the outbox under a key derived from what caused it
(`ticket:7:card`, `msg:slack:<ts>:answer`), and a model answer is only requested
when its key is not there yet, so a retried event neither posts nor pays twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config.playbook import Playbooks
from bot.events import Buttons, MessagePosted, PostReply, TicketAction
from bot.flow import copy
from bot.flow.answers import Reply, Writer, abstained
from bot.flow.drafts import Draft, Drafts, discard
from bot.flow.grounding import Found, Grounding, Outcome
from bot.flow.handover import Handovers
from bot.flow.live import Feed, LiveAnswers
from bot.flow.summaries import Summaries
from bot.knowledge.citations import cite
from bot.pipeline.keys import answer_key, card_key
from bot.pipeline.outbox import Outbox
from bot.pipeline.ports import LiveMessage
from bot.store.audit import who
from bot.store.models import Ticket, utcnow
from bot.tickets.leads_channels import LeadsChannels
from bot.tickets.queries import (
    add_message,
    place_of,
)
from bot.tickets.sla import SlaPolicy
from bot.tickets.status import ESCALATION_STATES, FINISHED, StatusChange, change_status
from triage.route import Route

__all__ = ["ThreadReplies"]


log = logging.getLogger(__name__)

WHOLE_WITHIN_SECONDS = 0.2
"""A draft done this soon after it is wanted, or this soon after the model's first
words, is posted whole: one message, and none of the streaming calls (start, stop,
then the edit that puts the answer in place). A model still writing after that is
shown as it writes; one with no words yet is shown from its first (issue 13's goal:
the first words within half a second of the model's first token)."""
STREAM_AFTER_SECONDS = 0.05
"""How long after the model's first words a draft still counts as written at once
(a whole answer arriving in one read ends its stream a moment later)."""


async def _written_at_once(draft: asyncio.Future[Draft], feed: Feed) -> bool:
    """True when `draft` is done, or its model has written all of it, before it is
    worth showing as it is written. (What is left after the model's last words, storing
    the call's cost, may take a busy bot a while: streaming a finished answer then would
    only add the streaming calls, and their edit, when the bot can least afford them.)"""
    give_up = time.monotonic() + WHOLE_WITHIN_SECONDS
    while not (draft.done() or feed.ended):
        until = give_up
        if feed.started_at is not None:
            until = min(until, feed.started_at + STREAM_AFTER_SECONDS)
        left = until - time.monotonic()
        if left <= 0:
            return False
        await asyncio.wait({draft}, timeout=min(left, 0.01))  # the first words may come
    return True


def answer_buttons(ticket_id: int) -> Buttons:
    """What the requester can do under every answer: say it solved it, or ask for a person."""
    return Buttons(ticket_id=ticket_id, actions=(TicketAction.SOLVED, TicketAction.NEED_PERSON))


class ThreadReplies:
    """Writes the replies a triaged ticket gets."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        writer: Writer,
        leads_channels: LeadsChannels,
        human_brief: bool = False,
        summaries: Summaries | None = None,
        context_chars: int = 12000,
        sla: SlaPolicy | None = None,
        grounding: Grounding | None = None,
        live: LiveAnswers | None = None,
        playbooks: Playbooks | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self.live = live or LiveAnswers(enabled=False)
        """Where answers are shown while they are written (MessageFlow feeds drafts)."""
        self._grounding = grounding
        self.outbox = outbox
        self.drafts = Drafts(
            sessions=sessions,
            writer=writer,
            summaries=summaries,
            grounding=grounding,
            context_chars=context_chars,
        )
        """Writes the answers this posts (MessageFlow drafts a new ticket's ahead)."""
        self.handovers = Handovers(
            sessions=sessions,
            outbox=outbox,
            writer=writer,
            leads_channels=leads_channels,
            human_brief=human_brief,
            sla=sla,
            grounding=grounding,
            playbooks=playbooks,
            clock=clock,
        )
        """Hands tickets to people: escalations, notices and briefs for the leads."""
        self._clock = clock

    async def answer(
        self,
        ticket: Ticket,
        event: MessagePosted,
        *,
        deep: bool,
        ahead: asyncio.Task[Draft] | None = None,
        feed: Feed | None = None,
        first_try: bool = False,
    ) -> list[str]:
        """A new ticket's first reply: its card and the model-written answer in one
        message (a busy channel's posting budget goes twice as far), or, when no
        answer can be written, the card with the hand-over note. Written once: the
        card's key says it was. `ahead`: the draft started while triage ran, writing
        into `feed`, which is shown from now on. `first_try`: the ticket was triaged
        just now, so nothing was written for it yet."""
        first = card_key(ticket.id)
        if not first_try and await self.outbox.has(first):
            await discard(ahead)
            return [first]
        if ahead is None:
            return await self._write_answer(ticket, event, answer_key(event), deep=deep, first=True)
        return await self._shown(ticket, event, answer_key(event), feed, ahead, first=True)

    async def _write_answer(
        self, ticket: Ticket, event: MessagePosted, key: str, *, deep: bool, first: bool = False
    ) -> list[str]:
        """The answer under `key`, shown as it is written where the platform can; when
        no model answer can be written, the leads get the ticket."""
        feed = self.live.feed(event.place.platform)
        draft = asyncio.ensure_future(self.drafts.draft(ticket, event, deep=deep, feed=feed))
        return await self._shown(ticket, event, key, feed, draft, first=first)

    async def _shown(
        self,
        ticket: Ticket,
        event: MessagePosted,
        key: str,
        feed: Feed | None,
        draft: asyncio.Future[Draft],
        *,
        first: bool,
    ) -> list[str]:
        """Await `draft`, showing what it writes into `feed` in a live message meanwhile,
        unless it is written at once (`WHOLE_WITHIN_SECONDS`: then posted whole)."""
        live = None
        try:
            if feed is not None and not await _written_at_once(draft, feed):
                card = self.handovers.card(ticket)
                live = await self.live.open(feed, place_of(ticket), event.author, card)
            written = await draft
        except BaseException:
            draft.cancel()  # a no-op once it is done; a wait cut short must not leave it
            await self.live.abandon(live, copy.STREAM_STOPPED)
            raise
        return await self._deliver(ticket, event, key, written, live, first=first)

    async def _deliver(
        self,
        ticket: Ticket,
        event: MessagePosted,
        key: str,
        draft: Draft,
        live: LiveMessage | None,
        *,
        first: bool = False,
    ) -> list[str]:
        reply, found = draft
        sourced = found is not None and bool(found.sources)
        if reply is not None and reply.from_model and not (sourced and abstained(reply.text)):
            live_id = await self.live.finish(live)
            posted = await self._post_answer(
                ticket, key, reply, found, first=first, live_id=live_id
            )
            return [posted]
        # Whatever was shown is no answer: say so where it stands; the hand-over follows.
        await self.live.abandon(live, copy.STREAM_STOPPED)
        if reply is not None and not reply.from_model:
            return await self.handovers.hand_over(ticket, event, found=found)
        assert found is not None  # no draft, or an abstention: the docs don't cover it
        return await self.handovers.abstain(ticket, event, found)

    async def _post_answer(
        self,
        ticket: Ticket,
        key: str,
        reply: Reply,
        found: Found | None,
        *,
        first: bool,
        live_id: str | None = None,
    ) -> str:
        """The answer under `key`, or with the ticket's card under the card's key when
        it is the ticket's first reply; the key written. `live_id`: the message it was
        streamed into, where the outlet puts it."""
        text, links = cite(reply.text, found.sources) if found else (reply.text, ())
        post = PostReply(
            place=place_of(ticket),
            text=text,
            sources=links,
            buttons=answer_buttons(ticket.id),
            live_message_id=live_id,
        )
        written = key
        async with self._sessions.begin() as session:
            if first:
                written = card_key(ticket.id)
                post = post.model_copy(update={"card": self.handovers.card(ticket)})
            added = await self.outbox.add(
                session, written, post, ticket_id=ticket.id, is_card=first
            )
            if added:
                await add_message(
                    session,
                    ticket,  # only its id is used: a bot's message changes no counter
                    message_id=f"bot:{key}",
                    author_id="bot",
                    text=text,
                    is_bot=True,
                    posted_at=self._clock(),
                    reasoning=reply.reasoning,
                )
        if found is not None and self._grounding is not None:
            await self._grounding.record(ticket.id, Outcome.ANSWERED, found)
        return written

    async def follow_up(self, ticket_id: int, event: MessagePosted) -> list[str]:
        """Answer a mention in a ticket's thread (reopening a finished ticket)."""
        async with self._sessions.begin() as session:
            ticket = await session.get_one(Ticket, ticket_id, with_for_update=True)
            if ticket.status in FINISHED:
                change_status(
                    session, ticket, StatusChange.REOPEN, actor=who(event.author), now=self._clock()
                )
        key = answer_key(event)
        if ticket.status in ESCALATION_STATES:
            text = copy.held_by_lead(ticket.id, claimed=ticket.assignee_id is not None)
            async with self._sessions.begin() as session:
                await self.outbox.add(
                    session, key, PostReply(place=place_of(ticket), text=text), ticket_id=ticket.id
                )
            return [key]
        if not await self.outbox.has(key):
            return await self._write_answer(ticket, event, key, deep=ticket.route == Route.REASONER)
        return [key]
