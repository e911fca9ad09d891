"""The dashboard's pages: the queue, the tickets list, a ticket's transcript, analytics
and costs. Every handler reads the signed-in lead (`request[VIEWER]`, set by the
session middleware) and shows only their workspaces' tickets; a bad query parameter is
a 400 page naming it, another workspace's ticket the same 404 as a missing one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config.playbook import Playbooks
from bot.config.taxonomy import normal_name
from bot.dashboard import pages_numbers
from bot.dashboard.filters import WINDOWS, BadParameter, parse_filters, parse_window
from bot.dashboard.queries import QUEUE_LIMIT, channels, list_tickets, queue, transcript
from bot.dashboard.render import Pages
from bot.dashboard.viewer import VIEWER, Viewer
from bot.dashboard.views import (
    action_forms,
    audit_fields,
    call_row,
    message_row,
    money,
    retrieval_hits,
    ticket_row,
    verdict_fields,
)
from bot.events import TicketStatus
from bot.knowledge.embeddings import Embedder
from bot.store.models import utcnow
from bot.tickets.cards import category_choices, urgency_choices
from bot.tickets.sla import SlaPolicy
from triage.route import Route

if TYPE_CHECKING:
    from bot.app import SupportApp

__all__ = ["DashboardPages"]


class DashboardPages:
    """The GET handlers of the dashboard's pages (`routes()` lists them)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        pages: Pages,
        *,
        playbooks: Playbooks,
        sla: SlaPolicy,
        clock: Callable[[], datetime] = utcnow,
        embedder: Embedder | None = None,
    ) -> None:
        """`playbooks` name each workspace's categories and teams; `sla` dates the SLA of
        tickets escalated before due times were stored; `embedder` (the knowledge base's
        model, optional) groups the analytics' coverage gaps."""
        self._sessions = sessions
        self._pages = pages
        self._playbooks = playbooks
        self._sla = sla
        self._clock = clock
        self._embedder = embedder

    @classmethod
    def for_app(cls, app: SupportApp, pages: Pages) -> DashboardPages:
        """The pages over a SupportApp's database, playbooks, SLA policy and clock."""
        jobs = app.jobs
        return cls(
            app.database.sessions,
            pages,
            playbooks=jobs.playbooks,
            sla=jobs.sla,
            clock=jobs.clock,
            embedder=app.knowledge.embedder if app.knowledge is not None else None,
        )

    def routes(self) -> list[web.RouteDef]:
        """The pages' GET routes, relative to where the dashboard is mounted."""
        return [
            web.get("/", self.queue),
            web.get("/tickets", self.tickets),
            web.get("/tickets/{id}", self.ticket),
            web.get("/analytics", self.analytics),
            web.get("/costs", self.costs),
        ]

    async def queue(self, request: web.Request) -> web.Response:
        """`GET /`: open escalations, oldest first, with their SLA in words."""
        viewer: Viewer = request[VIEWER]
        now = self._clock()
        async with self._sessions() as session:
            tickets = await queue(session, viewer)
        rows = [ticket_row(t, self._playbooks, self._sla, now) for t in tickets]
        return self._pages.html(
            request,
            "queue.html.j2",
            rows=rows,
            many=len(viewer.workspaces) > 1,
            limited=QUEUE_LIMIT if len(rows) >= QUEUE_LIMIT else None,
        )

    async def tickets(self, request: web.Request) -> web.Response:
        """`GET /tickets`: every ticket, filtered and searched, 50 a page, newest first."""
        viewer: Viewer = request[VIEWER]
        categories = self._categories(viewer)
        try:
            filters = parse_filters(request.query, self._category_names(viewer))
        except BadParameter as exc:
            return self.bad_request(request, exc)
        async with self._sessions() as session:
            page = await list_tickets(session, viewer, filters, self._playbooks)
            places = await channels(session, viewer)
        now = self._clock()
        first = sorted(viewer.workspaces)[0] if viewer.workspaces else None
        return self._pages.html(
            request,
            "tickets.html.j2",
            filters=filters,
            page=page,
            rows=[ticket_row(t, self._playbooks, self._sla, now) for t in page.tickets],
            many=len(viewer.workspaces) > 1,
            statuses=[(status.value, status.value) for status in TicketStatus],
            categories=categories,
            urgencies=urgency_choices(self._playbooks.for_workspace(first).taxonomy),
            routes=[(route.value, route.value) for route in Route],
            channels=[(channel, channel) for channel in places],
        )

    async def ticket(self, request: web.Request) -> web.Response:
        """`GET /tickets/{id}`: the transcript and everything recorded about the ticket,
        with the lead's action forms; 404 for a missing ticket and another workspace's."""
        viewer: Viewer = request[VIEWER]
        raw = request.match_info["id"]
        record = None
        if raw.isascii() and raw.isdigit() and len(raw) <= 12:
            async with self._sessions() as session:
                record = await transcript(session, viewer, int(raw))
        if record is None:
            return self.not_found(request, f"There is no ticket #{raw[:20]} here.")
        ticket = record.ticket
        workspace = ticket.workspace_id
        return self._pages.html(
            request,
            "ticket.html.j2",
            ticket=ticket,
            row=ticket_row(ticket, self._playbooks, self._sla, self._clock(), clip=False),
            messages=[message_row(m, ticket) for m in record.messages],
            verdicts=[
                (run, verdict_fields(run, self._playbooks, workspace)) for run in record.verdicts
            ],
            retrievals=[(r, retrieval_hits(r)) for r in record.retrievals],
            calls=[call_row(call) for call in record.calls],
            cost=money(record.cost),
            audit=[(entry, audit_fields(entry)) for entry in record.audit],
            forms=action_forms(ticket, self._playbooks),
            money=money,
        )

    async def analytics(self, request: web.Request) -> web.Response:
        """`GET /analytics?since=7d|30d|90d`: tickets per day by category and the lead's
        figures (response, claim and resolution times, deflection, satisfaction, triage)."""
        viewer: Viewer = request[VIEWER]
        try:
            window, days = parse_window(request.query)
        except BadParameter as exc:
            return self.bad_request(request, exc)
        context = await pages_numbers.analytics(
            self._sessions,
            viewer,
            self._playbooks,
            now=self._clock(),
            days=days,
            embedder=self._embedder,
        )
        return self._pages.html(
            request, "analytics.html.j2", window=window, windows=list(WINDOWS), **context
        )

    async def costs(self, request: web.Request) -> web.Response:
        """`GET /costs?since=7d|30d|90d`: model spend per day, model, purpose and
        workspace; cost per ticket and per resolved ticket."""
        viewer: Viewer = request[VIEWER]
        try:
            window, days = parse_window(request.query)
        except BadParameter as exc:
            return self.bad_request(request, exc)
        context = await pages_numbers.costs(self._sessions, viewer, now=self._clock(), days=days)
        return self._pages.html(
            request, "costs.html.j2", window=window, windows=list(WINDOWS), money=money, **context
        )

    def bad_request(self, request: web.Request, error: BadParameter) -> web.Response:
        """The 400 page for a query parameter the page cannot use, naming it."""
        return self._pages.html(
            request,
            "error.html.j2",
            status=400,
            heading=f"The “{error.name}” filter is not valid",
            message=error.problem,
        )

    def not_found(self, request: web.Request, message: str) -> web.Response:
        """The 404 page (a missing ticket and another workspace's read the same)."""
        return self._pages.html(
            request, "error.html.j2", status=404, heading="Not found", message=message
        )

    def _category_names(self, viewer: Viewer) -> dict[str, str]:
        """Every name the lead's categories go by, today's and former -> today's."""
        names: dict[str, str] = {}
        for workspace in sorted(viewer.workspaces):
            for category in self._playbooks.for_workspace(workspace).taxonomy.categories:
                names.setdefault(category.name, category.name)
                for old in category.formerly:
                    names.setdefault(normal_name(old), category.name)
        return names

    def _categories(self, viewer: Viewer) -> list[tuple[str, str]]:
        """Today's categories of the lead's workspaces, (value, label), each once."""
        seen: dict[str, str] = {}
        for workspace in sorted(viewer.workspaces):
            taxonomy = self._playbooks.for_workspace(workspace).taxonomy
            for name, label in category_choices(taxonomy):
                seen.setdefault(name, label)
        return list(seen.items())
