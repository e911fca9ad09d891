"""The terminal's card shows the team and the suggested lead as plain ids."""

from __future__ import annotations

from adapters.console import render_card
from bot.events import TicketCard, TicketStatus


def test_the_card_names_the_team_and_the_suggestion_until_someone_claims() -> None:
    card = TicketCard(
        ticket_id=4,
        status=TicketStatus.ESCALATED,
        category="crash",
        urgency="P1 - critical",
        team="bugs",
        suggested_assignee_id="U_CY",
    )
    lines = "\n".join(render_card(card))
    assert "P1 - critical urgency · crash" in lines
    assert "team: bugs" in lines
    assert "suggested: U_CY" in lines
    claimed = "\n".join(render_card(card.model_copy(update={"assignee_id": "U_DEE"})))
    assert "assignee: U_DEE" in claimed
    assert "suggested" not in claimed
