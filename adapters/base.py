"""The contract every adapter keeps with the core.

An adapter translates platform payloads into `bot.events` and hands them to
`Intake.submit()` before acknowledging the platform; it renders the core's neutral
replies through its `Outlet.deliver()`. It never touches the database or the LLM.
"""

from __future__ import annotations

from typing import Protocol

from bot.events import Event, Reply

__all__ = ["Intake", "Outlet"]


class Intake(Protocol):
    """The narrow door into the core (`SupportService` implements it)."""

    async def submit(self, event: Event) -> bool:
        """Store the event durably; False when it was a duplicate."""
        ...


class Outlet(Protocol):
    """Renders and sends one neutral reply; returns the posted message's id."""

    async def deliver(self, reply: Reply) -> str | None:
        """Send `reply` in the platform's own form."""
        ...
