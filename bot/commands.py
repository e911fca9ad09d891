"""Slash commands and card buttons: permission check, act, audit, answer.

`CommandDesk` writes its answers to the outbox under keys made from the event id and
returns those keys; the service sends them. Refusals are answered and audited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.answers import Writer
from bot.events import ActionInvoked, Actor, CommandInvoked, Ephemeral, PostReply, UpdateCard
from bot.llm.types import CallContext
from bot.outbox import Outbox
from bot.policy import TicketStatus, is_lead, next_status, sla_state
from bot.reports import cost_report, parse_since
from bot.store.models import Message, Summary, Ticket, TriageRun, utcnow
from bot.summaries import Summaries
from bot.tickets import audit, card_for, facts_of, find_ticket, place_of, thread_lines
from triage.schema import Category, Urgency

__all__ = ["HELP", "CommandDesk"]

HELP = """supportbot commands:
  summary          in a ticket thread: that ticket's summary; elsewhere: open tickets here
  escalations      (leads) open escalations, oldest first, with SLA state
  costs [7d]       (leads) spend on model calls by model and purpose
  ticket N         one ticket's card and summary
  forget-me        erase the text of every message you wrote that the bot stored
  help             this list
Mention the bot in a channel to open a ticket; reply in its thread to add to it."""

LEAD_ONLY = frozenset({"escalations", "costs"})
PAST_TENSE = {"claim": "ticket.claimed", "resolve": "ticket.resolved", "reopen": "ticket.reopened"}


def _who(actor: Actor) -> str:
    return f"{actor.platform}:{actor.user_id}"


def _name(actor: Actor) -> str:
    return actor.display_name or actor.user_id


class CommandDesk:
    """Answers `/support ...` commands and lead actions on ticket cards."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        summaries: Summaries,
        writer: Writer,
        lead_user_ids: list[str],
        lead_role_ids: list[str],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._summaries = summaries
        self._writer = writer
        self._lead_users = lead_user_ids
        self._lead_roles = lead_role_ids
        self._clock = clock

    def is_lead(self, actor: Actor) -> bool:
        """True when `actor` may work escalations."""
        return is_lead(actor, self._lead_users, self._lead_roles)

    async def _say(
        self, event: CommandInvoked | ActionInvoked, text: str, suffix: str = "reply"
    ) -> str:
        key = f"event:{event.place.platform}:{event.event_id}:{suffix}"
        async with self._sessions.begin() as session:
            await self._outbox.add(
                session,
                key,
                Ephemeral(
                    actor=event.actor, place=event.place, text=text, reply_handle=event.reply_handle
                ),
            )
        return key

    # --- Commands -------------------------------------------------------------

    async def command(self, event: CommandInvoked) -> list[str]:
        """Run a command and return the outbox keys of its answer."""
        if event.name in LEAD_ONLY and not self.is_lead(event.actor):
            async with self._sessions.begin() as session:
                audit(
                    session,
                    actor=_who(event.actor),
                    action="command.refused",
                    target=f"command:{event.name}",
                    at=self._clock(),
                )
            return [await self._say(event, f"Only support leads can use `{event.name}`.")]
        handler = {
            "help": self._help,
            "summary": self._summary,
            "escalations": self._escalations,
            "costs": self._costs,
            "ticket": self._ticket,
            "forget-me": self._forget_me,
        }[event.name]
        return [await self._say(event, await handler(event))]

    async def _help(self, _event: CommandInvoked) -> str:
        return HELP

    async def _summary(self, event: CommandInvoked) -> str:
        async with self._sessions() as session:
            ticket = (
                await find_ticket(session, event.place, event.place.thread_id)
                if event.place.thread_id
                else None
            )
            if ticket is None:
                return await self._channel_tickets(session, event)
        text = await self._summaries.current(ticket.id)
        return f"Ticket #{ticket.id} ({ticket.status}) summary:\n{text}"

    async def _channel_tickets(self, session: AsyncSession, event: CommandInvoked) -> str:
        rows = (
            await session.scalars(
                select(Ticket)
                .where(
                    Ticket.platform == event.place.platform.value,
                    Ticket.workspace_id == event.place.workspace_id,
                    Ticket.channel_id == event.place.channel_id,
                    Ticket.status.in_(TicketStatus.ACTIVE),
                )
                .order_by(Ticket.id)
            )
        ).all()
        if not rows:
            return "No open tickets in this channel."
        lines = [f"Open tickets in this channel ({len(rows)}):"]
        lines += [
            f"  #{t.id} [{t.status}] {t.urgency or '?'} {t.category or '?'}: "
            f"{t.summary or '(not triaged yet)'}"
            for t in rows
        ]
        return "\n".join(lines)

    async def _escalations(self, event: CommandInvoked) -> str:
        now = self._clock()
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(Ticket)
                    .where(
                        Ticket.platform == event.place.platform.value,
                        Ticket.workspace_id == event.place.workspace_id,
                        Ticket.status.in_((TicketStatus.ESCALATED, TicketStatus.CLAIMED)),
                    )
                    .order_by(Ticket.escalated_at, Ticket.id)
                )
            ).all()
        if not rows:
            return "No open escalations."
        lines = [f"Open escalations ({len(rows)}), oldest first:"]
        for t in rows:
            state = (
                f"claimed by {t.assignee_id}"
                if t.status == TicketStatus.CLAIMED
                else sla_state(t.sla_due_at, now)
            )
            lines.append(f"  #{t.id} {t.urgency} {t.category}, {state}: {t.summary}")
        return "\n".join(lines)

    async def _costs(self, event: CommandInvoked) -> str:
        window_text = event.args[0] if event.args else "7d"
        try:
            window = parse_since(window_text)
        except ValueError as exc:
            return str(exc)
        report = await cost_report(self._sessions, self._clock() - window, event.place.workspace_id)
        lines = [
            f"Spend in the last {window_text}: ${report.total.cost_usd:.4f} over "
            f"{report.total.calls} model call(s)"
        ]
        for title, groups in (("model", report.by_model), ("purpose", report.by_purpose)):
            lines += [
                f"  {title} {name}: ${b.cost_usd:.4f} ({b.calls} calls)"
                for name, b in sorted(groups.items())
            ]
        return "\n".join(lines)

    async def _ticket(self, event: CommandInvoked) -> str:
        if not event.args or not event.args[0].lstrip("#").isdigit():
            return "Usage: ticket N (the ticket number, e.g. `ticket 12`)."
        ticket_id = int(event.args[0].lstrip("#"))
        async with self._sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
        if ticket is None or ticket.workspace_id != event.place.workspace_id:
            return f"There is no ticket #{ticket_id} here."
        summary = await self._summaries.current(ticket.id)
        return (
            f"Ticket #{ticket.id} [{ticket.status}] {ticket.urgency} {ticket.category}\n"
            f"{ticket.summary}\nRoute: {ticket.route} ({ticket.route_reason})\n"
            f"Assignee: {ticket.assignee_id or 'nobody'}\nSummary:\n{summary}"
        )

    async def _forget_me(self, event: CommandInvoked) -> str:
        now = self._clock()
        async with self._sessions.begin() as session:
            mine = (
                select(Message.id, Message.ticket_id)
                .join(Ticket)
                .where(
                    Ticket.platform == event.place.platform.value,
                    Ticket.workspace_id == event.place.workspace_id,
                    Message.author_id == event.actor.user_id,
                    Message.text.is_not(None),
                )
            )
            rows = (await session.execute(mine)).all()
            ids, tickets = [r.id for r in rows], {r.ticket_id for r in rows}
            if ids:
                await session.execute(
                    update(Message).where(Message.id.in_(ids)).values(text=None, deleted_at=now)
                )
                await session.execute(
                    update(Summary).where(Summary.ticket_id.in_(tickets)).values(text=None)
                )
            audit(
                session,
                actor=_who(event.actor),
                action="user.forgotten",
                target=_who(event.actor),
                at=now,
                messages=len(ids),
            )
        return f"Done: erased the text of {len(ids)} stored message(s) you wrote."

    # --- Actions ----------------------------------------------------------------

    async def action(self, event: ActionInvoked) -> list[str]:
        """Apply a lead's button press; refuse and audit anyone else."""
        now, target = self._clock(), f"ticket:{event.ticket_id}"
        if not self.is_lead(event.actor):
            async with self._sessions.begin() as session:
                audit(
                    session,
                    actor=_who(event.actor),
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
                actor=_who(event.actor),
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
                    result={**after, "previous": before, "by": _who(event.actor)},
                    valid=True,
                    attempts=0,
                    created_at=now,
                )
            )
            audit(
                session,
                actor=_who(event.actor),
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
                "claim": f"A support lead ({_name(event.actor)}) has claimed this ticket.",
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
        context = CallContext(
            purpose="reasoner",
            ticket_id=ticket.id,
            workspace_id=ticket.workspace_id,
            user_id=event.actor.user_id,
        )
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
