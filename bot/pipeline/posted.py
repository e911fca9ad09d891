"""What the outbox already posted: the cards a ticket has on the platform.

A lead's button press updates every card of its ticket (the thread's, the leads'
channel's); their platform message ids are in the outbox rows that posted them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import CardRef, PostReply, load_reply
from bot.store.models import OutboxItem

__all__ = ["posted_cards"]


async def posted_cards(session: AsyncSession, ticket_id: int) -> list[CardRef]:
    """Every card posted for a ticket (its thread card, the leads' card), oldest first."""
    rows = (
        await session.scalars(
            select(OutboxItem)
            .where(
                OutboxItem.ticket_id == ticket_id,
                OutboxItem.is_card.is_(True),
                OutboxItem.status == "sent",
            )
            .order_by(OutboxItem.id)
        )
    ).all()
    refs = []
    for row in rows:
        reply = load_reply(row.payload)
        if isinstance(reply, PostReply) and row.sent_message_id:
            refs.append(
                CardRef(
                    place=reply.place,
                    message_id=row.sent_message_id,
                    text=reply.text,
                    sources=reply.sources,
                    buttons=reply.buttons,
                )
            )
        elif reply.kind == "notify" and row.sent_message_id:
            refs.append(CardRef(place=reply.place, message_id=row.sent_message_id))
    return refs
