"""The operator's ticket list (`supportbot tickets`): one line per ticket, no content."""

from __future__ import annotations

from typing import Any

__all__ = ["ticket_lines"]


def ticket_lines(rows: list[dict[str, Any]]) -> list[str]:
    """`Ticket.as_row()` dicts as aligned text lines, or a note when there are none."""
    if not rows:
        return ["No tickets yet."]
    return [
        f"#{r['id']:<5} {r['platform']:<8} {r['place']:<28} {r['status']:<10} "
        f"{r['category'] or '-':<16} {r['urgency'] or '-':<7} {r['route'] or '-':<9} "
        f"{'needs human' if r['needs_human'] else ''}".rstrip()
        for r in rows
    ]
