"""Slash commands: `/support summary|escalations|costs|csat|ticket|forget-me|dashboard|help`.

Answers go to the outbox under keys made from the event id; the service sends them.
Lead-only commands from anyone else are refused and audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.base import DeskBase
from bot.desk.dashboard_access import leads_workspace
from bot.events import CommandInvoked, CommandName
from bot.flow import copy
from bot.reports.costs import BadWindow, cost_report, parse_since
from bot.store.audit import who
from bot.store.logins import LoginLinks
from bot.store.models import Ticket
from bot.tickets.cards import escalation_state
from bot.tickets.erasure import erase_user
from bot.tickets.queries import find_ticket, get_ticket, open_escalations, same_workspace
from bot.tickets.status import ACTIVE

__all__ = ["CommandDesk"]

LEAD_ONLY = frozenset({CommandName.ESCALATIONS, CommandName.COSTS, CommandName.CSAT})


class CommandDesk(DeskBase):
    """Answers `/support ...` commands."""

    def __init__(self, *, links: LoginLinks | None = None, **parts: Any) -> None:
        """`links` issues `/support dashboard`'s login links (None: no dashboard)."""
        super().__init__(**parts)
        self._links = links

    async def command(self, event: CommandInvoked) -> list[str]:
        """Run a command and return the outbox keys of its answer."""
        if event.name in LEAD_ONLY and not self.is_lead(event.actor):
            text = copy.leads_only_command(event.name)
            target = f"command:{event.name}"
            return [await self._refuse(event, text, action="command.refused", target=target)]
        if event.name is CommandName.DASHBOARD and not self._leads_here(event):
            text, target = copy.DASHBOARD_REFUSED, f"command:{event.name}"
            return [await self._refuse(event, text, action="command.refused", target=target)]
        handler = {
            CommandName.HELP: self._help,
            CommandName.SUMMARY: self._summary,
            CommandName.ESCALATIONS: self._escalations,
            CommandName.COSTS: self._costs,
            CommandName.CSAT: self._csat,
            CommandName.TICKET: self._ticket,
            CommandName.FORGET_ME: self._forget_me,
            CommandName.DASHBOARD: self._dashboard,
        }[event.name]
        # "public" shares the answer with the channel; everything else is for the caller only
        # (a login link always is).
        public = "public" in event.args and event.name is not CommandName.DASHBOARD
        if public:
            event = event.model_copy(update={"args": tuple(a for a in event.args if a != "public")})
        text = await handler(event)
        if public and not await self._may_share(event):
            public, text = False, f"{copy.NOT_SHARED}\n{text}"
        return [await self._say(event, text, public=public)]

    async def _may_share(self, event: CommandInvoked) -> bool:
        """Help is for anyone to share; ticket details only for leads (the ticket's team's
        too), in the ticket's channel."""
        if event.name is CommandName.HELP:
            return True
        if event.name is CommandName.DASHBOARD:  # a login link is never for the channel
            return False
        if event.name is CommandName.TICKET:
            ticket = await self._visible_ticket(event)
            return (
                ticket is not None
                and self.may_work(event.actor, ticket, event.place)
                and ticket.channel_id == event.place.channel_id
            )
        return self.is_lead(event.actor)

    async def _visible_ticket(self, event: CommandInvoked) -> Ticket | None:
        """The ticket `ticket N` names, if the caller may see it: its requester, or a lead
        of its workspace (or of its team). Anyone else is told it does not exist."""
        if not event.args or not event.args[0].lstrip("#").isdigit():
            return None
        async with self._sessions() as session:
            ticket = await get_ticket(session, int(event.args[0].lstrip("#")))
        if ticket is None or not same_workspace(ticket, event.place):
            return None
        if ticket.requester_id != event.actor.user_id and not self.may_work(
            event.actor, ticket, event.place
        ):
            return None
        return ticket

    async def _help(self, event: CommandInvoked) -> str:
        return copy.help_text(self.playbook(event.place.workspace_id).taxonomy)

    def _labels(self, ticket: Ticket) -> str:
        """`high billing`: the ticket's urgency and category as its workspace reads them."""
        card = self.card(ticket)
        return f"{card.urgency or '?'} {card.category or '?'}"

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
                    Ticket.status.in_(ACTIVE),
                )
                .order_by(Ticket.id)
            )
        ).all()
        if not rows:
            return copy.NO_OPEN_TICKETS
        lines = [f"Open tickets in this channel ({len(rows)}):"]
        lines += [
            f"  #{t.id} [{t.status}] {self._labels(t)}: {t.summary or '(not triaged yet)'}"
            for t in rows
        ]
        return "\n".join(lines)

    async def _escalations(self, event: CommandInvoked) -> str:
        now = self._clock()
        async with self._sessions() as session:
            rows = await open_escalations(
                session, event.place.platform.value, event.place.workspace_id
            )
        if not rows:
            return copy.NO_ESCALATIONS
        lines = [f"Open escalations ({len(rows)}), oldest first:"]
        for t in rows:
            team = f" (team {t.team})" if t.team else ""
            lines.append(
                f"  #{t.id} {self._labels(t)}{team}, {escalation_state(t, now)}: {t.summary}"
            )
        return "\n".join(lines)

    async def _costs(self, event: CommandInvoked) -> str:
        window_text = event.args[0] if event.args else "7d"
        try:
            window = parse_since(window_text)
        except BadWindow as exc:
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

    async def _csat(self, event: CommandInvoked) -> str:
        window_text = event.args[0] if event.args else "30d"
        try:
            window = parse_since(window_text)
        except BadWindow as exc:
            return str(exc)
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(Ticket.satisfaction, func.count())
                    .where(
                        Ticket.platform == event.place.platform.value,
                        Ticket.workspace_id == event.place.workspace_id,
                        Ticket.resolved_at >= self._clock() - window,
                    )
                    .group_by(Ticket.satisfaction)
                )
            ).all()
        counts = {rating: count for rating, count in rows}
        return copy.satisfaction(
            window.total_seconds() / 86400,
            counts.get("good", 0),
            counts.get("bad", 0),
            counts.get(None, 0),
        )

    async def _ticket(self, event: CommandInvoked) -> str:
        if not event.args or not event.args[0].lstrip("#").isdigit():
            return copy.TICKET_USAGE
        ticket = await self._visible_ticket(event)
        if ticket is None:
            return copy.no_such_ticket(int(event.args[0].lstrip("#")), here=True)
        summary = await self._summaries.current(ticket.id)
        card = self.card(ticket)
        team = f"Team: {card.team}\n" if card.team else ""
        suggested = (
            f" (suggested: {card.suggested_assignee_id})" if card.suggested_assignee_id else ""
        )
        return (
            f"Ticket #{ticket.id} [{ticket.status}] {self._labels(ticket)}\n"
            f"{ticket.summary}\nRoute: {ticket.route} ({ticket.route_reason})\n{team}"
            f"Assignee: {ticket.assignee_id or 'nobody'}{suggested}\nSummary:\n{summary}"
        )

    async def _forget_me(self, event: CommandInvoked) -> str:
        erased = await erase_user(
            self._sessions,
            user_id=event.actor.user_id,
            actor=who(event.actor),
            now=self._clock(),
            platform=event.place.platform.value,
            workspace_id=event.place.workspace_id,
        )
        return copy.forgotten(erased)

    def _leads_here(self, event: CommandInvoked) -> bool:
        """True when the caller leads this workspace: a desk lead, or a team's lead here."""
        playbook = self.playbook(event.place.workspace_id)
        return leads_workspace(self._leads, playbook, event.actor)

    async def _dashboard(self, event: CommandInvoked) -> str:
        """A one-time login link for this platform and workspace, with the caller's roles
        (so the dashboard's checks see the same lead as chat does)."""
        if self._links is None:
            return copy.DASHBOARD_UNAVAILABLE
        url = await self._links.issue(
            platform=event.place.platform.value,
            user_id=event.actor.user_id,
            workspaces=(event.place.workspace_id,),
            roles=event.actor.roles,
            display_name=event.actor.display_name,
            now=self._clock(),
            issued_by=who(event.actor),
        )
        return copy.dashboard_link(url, self._links.minutes)
