"""The bot's replies in a ticket's thread: answers, escalations, follow-ups.

Each reply is written to the outbox under a key derived from what caused it
(`ticket:7:card`, `msg:slack:<ts>:answer`), and a model answer is only requested
when its key is not there yet, so a retried event neither posts nor pays twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.events import Buttons, MessagePosted, Notify, Place, PostReply, TicketAction
from bot.flow import copy
from bot.flow.answers import Reply, Writer, abstained
from bot.flow.drafts import Draft, Drafts, discard
from bot.flow.grounding import Found, Grounding, Outcome
from bot.flow.live import Feed, LiveAnswers
from bot.flow.summaries import Summaries
from bot.knowledge.citations import cite
from bot.pipeline.keys import answer_key, brief_key, card_key, escalation_key
from bot.pipeline.outbox import Outbox
from bot.pipeline.ports import LiveMessage
from bot.store.audit import who
from bot.store.models import Ticket, utcnow
from bot.tickets.cards import card_for
from bot.tickets.leads_channels import LeadsChannels
from bot.tickets.queries import (
    add_message,
    call_context,
    facts_of,
    place_of,
    thread_lines,
)
from bot.tickets.sla import SlaPolicy
from bot.tickets.status import ESCALATION_STATES, FINISHED, StatusChange, change_status, escalate
from triage.route import Route

__all__ = ["ThreadReplies"]


def _reason_name(reason: str) -> str:
    return "not_in_docs" if reason == copy.NOT_IN_DOCS else "no_answer"


log = logging.getLogger(__name__)


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
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self.live = live or LiveAnswers(enabled=False)
        """Where answers are shown while they are written (MessageFlow feeds drafts)."""
        self._grounding = grounding
        self.outbox = outbox
        self._writer = writer
        self._leads_channels = leads_channels
        self._human_brief = human_brief
        self.drafts = Drafts(
            sessions=sessions,
            writer=writer,
            summaries=summaries,
            grounding=grounding,
            context_chars=context_chars,
        )
        """Writes the answers this posts (MessageFlow drafts a new ticket's ahead)."""
        self._sla = sla or SlaPolicy()
        self._clock = clock

    async def _add_card(self, session: AsyncSession, ticket: Ticket) -> str:
        """The ticket card in its thread, once."""
        key = card_key(ticket.id)
        card = PostReply(place=place_of(ticket), card=card_for(ticket))
        await self.outbox.add(session, key, card, ticket_id=ticket.id, is_card=True)
        return key

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
        live = await self.live.open(feed, place_of(ticket), event.author, card_for(ticket))
        try:
            draft = await ahead
        except BaseException:
            await self.live.abandon(live, copy.STREAM_STOPPED)
            raise
        return await self._deliver(ticket, event, answer_key(event), draft, live, first=True)

    async def _write_answer(
        self, ticket: Ticket, event: MessagePosted, key: str, *, deep: bool, first: bool = False
    ) -> list[str]:
        """The answer under `key`, shown as it is written where the platform can; when
        no model answer can be written, the leads get the ticket."""
        feed = self.live.feed(event.place.platform)
        live = await self.live.open(feed, place_of(ticket), event.author, card_for(ticket))
        try:
            draft = await self.drafts.draft(ticket, event, deep=deep, feed=feed)
        except BaseException:
            await self.live.abandon(live, copy.STREAM_STOPPED)
            raise
        return await self._deliver(ticket, event, key, draft, live, first=first)

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
        answered = (
            reply is not None
            and reply.from_model
            and not (found is not None and found.sources and abstained(reply.text))
        )
        if not answered:
            # Whatever was shown is no answer: say so where it stands; the hand-over follows.
            await self.live.abandon(live, copy.STREAM_STOPPED)
        if reply is None:
            assert found is not None
            return await self._abstain(ticket, event, found)
        if not reply.from_model:
            return await self._hand_over(ticket, event, found=found)
        if not answered:
            assert found is not None
            return await self._abstain(ticket, event, found)
        live_id = await self.live.finish(live)
        return [await self._post_answer(ticket, key, reply, found, first=first, live_id=live_id)]

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
                post = post.model_copy(update={"card": card_for(ticket)})
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

    async def _abstain(self, ticket: Ticket, event: MessagePosted, found: Found) -> list[str]:
        """The docs don't answer this: say so and hand the ticket to a person."""
        assert self._grounding is not None
        await self._grounding.record(ticket.id, Outcome.ABSTAINED, found)
        log.info("ticket.abstained ticket=%s retrieved=%s", ticket.id, len(found.retrieved))
        return await self._hand_over(
            ticket, event, reason=copy.NOT_IN_DOCS, note=copy.not_in_docs_note(ticket.id)
        )

    async def _hand_over(
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
            if escalate(session, row, sla=self._sla, now=self._clock(), reason=reason):
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
                merged = reply.model_copy(update={"card": card_for(ticket)})
                await self.outbox.add(
                    session, thread_key, merged, ticket_id=ticket.id, is_card=True
                )
            else:
                thread_key = await self._add_card(session, ticket)
                if not quiet:
                    await self.outbox.add(session, note_key, reply, ticket_id=ticket.id)
            if leads is not None:
                text = copy.escalation_notice(
                    ticket.id, ticket.urgency, ticket.category, ticket.route_reason or ""
                )
                await self.outbox.add(
                    session,
                    leads_key,
                    Notify(place=leads, text=text, ping_leads=True, card=card_for(ticket)),
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
        """A one-off notice to the ticket's leads channel, once per key."""
        leads = self._leads_place(ticket)
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
        return self._leads_channels.place(ticket.platform, ticket.workspace_id)

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
