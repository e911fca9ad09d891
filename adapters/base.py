"""What every adapter shares: the two doors into the core, the lifecycle, text splitting.

An adapter translates platform payloads into `bot.events` and hands them to
`Intake.submit()` before acknowledging the platform; it renders the core's neutral
replies through its `Outlet.deliver()`. It never touches the database or the model.
The `Intake` and `Outlet` protocols are defined by the core (`bot.events`), the one
side both know.
"""

from __future__ import annotations

from typing import Protocol

from bot.events import Intake, Outlet

__all__ = ["Adapter", "Intake", "Outlet", "split_text"]


class Adapter(Protocol):
    """A running platform connection: its outlet, and a stop."""

    outlet: Outlet

    async def stop(self) -> None:
        """Disconnect; safe to call twice."""
        ...


def split_text(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` characters, at line or word ends if possible.

    Never returns an empty list: empty text is one empty piece.
    """
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return pieces
