"""Neutral replies -> Discord embeds and persistent buttons, within Discord's limits."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

import discord

from bot.events import TicketCard

__all__ = ["NO_PINGS", "card_embed", "make_ticket_items", "split_content", "ticket_view"]

CONTENT_LIMIT = 2000
TITLE_LIMIT, DESCRIPTION_LIMIT, FIELD_LIMIT = 256, 4096, 1024
NO_PINGS = discord.AllowedMentions.none()
CATEGORIES = ("billing", "bug", "feature_request", "account", "other")
URGENCIES = ("low", "medium", "high")
COLOURS = {
    "open": 0x3498DB,
    "escalated": 0xE74C3C,
    "claimed": 0xF1C40F,
    "resolved": 0x2ECC71,
    "closed": 0x95A5A6,
}
BUTTONS = {
    "claim": ("Claim", discord.ButtonStyle.primary),
    "resolve": ("Resolve", discord.ButtonStyle.success),
    "reopen": ("Reopen", discord.ButtonStyle.secondary),
    "ask-reasoner": ("Ask reasoner", discord.ButtonStyle.secondary),
}

Press = Callable[[discord.Interaction], Coroutine[Any, Any, None]]


def split_content(text: str, limit: int = CONTENT_LIMIT) -> list[str]:
    """Message content in pieces of at most `limit` characters, cut at lines or words."""
    pieces, rest = [], text
    while len(rest) > limit:
        cut = max(rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n ")
    return [*pieces, rest] if rest or not pieces else pieces


def card_embed(card: TicketCard) -> discord.Embed:
    """A ticket card as an embed: title, summary, category, urgency, assignee."""
    embed = discord.Embed(
        title=f"Ticket #{card.ticket_id} · {card.status}"[:TITLE_LIMIT],
        description=(card.summary or "")[:DESCRIPTION_LIMIT] or None,
        colour=COLOURS.get(card.status, 0x95A5A6),
    )
    embed.add_field(name="Category", value=(card.category or "not triaged")[:FIELD_LIMIT])
    embed.add_field(name="Urgency", value=(card.urgency or "not triaged")[:FIELD_LIMIT])
    if card.assignee_id:
        embed.add_field(name="Assignee", value=f"<@{card.assignee_id}>"[:FIELD_LIMIT])
    return embed


def make_ticket_items(on_press: Press) -> tuple[type[discord.ui.DynamicItem[Any]], ...]:
    """The persistent button and select classes, bound to the adapter's press handler.

    Their `custom_id` carries the action and the ticket id, so discord.py can rebuild
    them from any old card after a restart once they are registered with
    `client.add_dynamic_items()`.
    """

    class TicketButton(
        discord.ui.DynamicItem[discord.ui.Button[Any]],
        template=r"ticket:(?P<verb>claim|resolve|reopen|ask-reasoner):(?P<id>\d+)",
    ):
        def __init__(self, verb: str, ticket_id: int) -> None:
            label, style = BUTTONS[verb]
            super().__init__(
                discord.ui.Button(label=label, style=style, custom_id=f"ticket:{verb}:{ticket_id}")
            )

        @classmethod
        async def from_custom_id(
            cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
        ) -> TicketButton:
            return cls(match["verb"], int(match["id"]))

        async def callback(self, interaction: discord.Interaction) -> None:
            await on_press(interaction)

    class TicketSelect(
        discord.ui.DynamicItem[discord.ui.Select[Any]],
        template=r"ticket:reclassify-(?P<what>category|urgency):(?P<id>\d+)",
    ):
        def __init__(self, what: str, ticket_id: int) -> None:
            values = CATEGORIES if what == "category" else URGENCIES
            super().__init__(
                discord.ui.Select(
                    custom_id=f"ticket:reclassify-{what}:{ticket_id}",
                    placeholder=f"Reclassify {what}",
                    options=[
                        discord.SelectOption(label=v.replace("_", " "), value=v) for v in values
                    ],
                )
            )

        @classmethod
        async def from_custom_id(
            cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
        ) -> TicketSelect:
            return cls(match["what"], int(match["id"]))

        async def callback(self, interaction: discord.Interaction) -> None:
            await on_press(interaction)

    return TicketButton, TicketSelect


def ticket_view(card: TicketCard, items: tuple[type[Any], ...]) -> discord.ui.View | None:
    """The buttons a card offers in its state, as a persistent view (or None)."""
    button_cls, select_cls = items
    view = discord.ui.View(timeout=None)
    for action in card.actions:
        if action in BUTTONS:
            view.add_item(button_cls(action, card.ticket_id))
        elif action == "reclassify":
            view.add_item(select_cls("category", card.ticket_id))
            view.add_item(select_cls("urgency", card.ticket_id))
    return view if view.children else None
