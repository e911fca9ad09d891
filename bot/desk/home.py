"""The home view: a lead's queue (escalations, today's tickets, today's spend).

Categories read as the workspace's taxonomy names them today: tickets stored under
a category's old name count with it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, select

from bot.desk.base import DeskBase
from bot.events import HomeOpened, HomeSection, PublishHome, TicketCard
from bot.flow import copy
from bot.pipeline.keys import home_key
from bot.reports.costs import cost_report
from bot.store.models import Ticket
from bot.tickets.cards import card_for, escalation_state
from bot.tickets.queries import open_escalations

__all__ = ["HomeDesk"]


class HomeDesk(DeskBase):
    """Builds home views."""

    async def home(self, event: HomeOpened) -> list[str]:
        """Publish the caller's home: the escalation queue for leads, a how-to for others."""
        if self.is_lead(event.actor):
            sections = await self._lead_home(event)
        else:
            taxonomy = self.playbook(event.place.workspace_id).taxonomy
            lines = tuple(copy.help_text(taxonomy).splitlines())
            sections = (HomeSection(title="Getting help", lines=lines),)
        key = home_key(event)
        async with self._sessions.begin() as session:
            await self._outbox.add(
                session, key, PublishHome(actor=event.actor, place=event.place, sections=sections)
            )
        return [key]

    async def _lead_home(self, event: HomeOpened) -> tuple[HomeSection, ...]:
        now = self._clock()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        where = (
            Ticket.platform == event.place.platform.value,
            Ticket.workspace_id == event.place.workspace_id,
        )
        async with self._sessions() as session:
            open_rows = await open_escalations(
                session, event.place.platform.value, event.place.workspace_id
            )
            today = (
                await session.execute(
                    select(Ticket.category, func.count())
                    .where(*where, Ticket.created_at >= midnight)
                    .group_by(Ticket.category)
                )
            ).all()
        spend = await cost_report(self._sessions, midnight, event.place.workspace_id)
        playbook = self.playbook(event.place.workspace_id)
        queue = tuple(_queue_line(t, now, card_for(t, playbook)) for t in open_rows) or (
            copy.NOTHING_WAITING,
        )
        counts: Counter[str] = Counter()
        for category, count in today:
            counts[playbook.taxonomy.shown(category) or "untriaged"] += count
        by_category = tuple(f"{c}: {n}" for c, n in sorted(counts.items()))
        return (
            HomeSection(title=f"Open escalations ({len(open_rows)})", lines=queue),
            HomeSection(title="Today's tickets by category", lines=by_category or ("none yet",)),
            HomeSection(
                title="Today's spend",
                lines=(f"${spend.total.cost_usd:.4f} over {spend.total.calls} model call(s)",),
            ),
        )


def _queue_line(ticket: Ticket, now: datetime, card: TicketCard) -> str:
    minutes = int((now - (ticket.escalated_at or ticket.created_at)).total_seconds() // 60)
    age = f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"
    state = escalation_state(ticket, now)
    labels = f"{card.urgency} {card.category}" + (f" (team {card.team})" if card.team else "")
    return f"#{ticket.id} {labels}, open {age}, {state}: {ticket.summary}"
