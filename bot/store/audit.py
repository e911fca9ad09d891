"""The audit trail: who did what to which ticket, when. Never message content."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import Actor
from bot.store.models import AuditEntry

__all__ = ["audit", "who"]


def who(actor: Actor) -> str:
    """How an actor is written in the audit log: `platform:user_id`."""
    return f"{actor.platform}:{actor.user_id}"


def audit(
    session: AsyncSession, *, actor: str, action: str, target: str, at: datetime, **detail: Any
) -> None:
    """Add an audit row in the caller's transaction."""
    session.add(AuditEntry(actor=actor, action=action, target=target, detail=detail, at=at))
