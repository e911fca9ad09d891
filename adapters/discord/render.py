"""Neutral replies -> Discord embeds and persistent buttons, within Discord's limits.

All text but the bot's own (pings, the assignee, `trusted_link`) is neutralised
(`adapters.discord.text`): it forms no masked links and no mentions. The one masked
link the bot writes is to a page an answer cites (`reply_content`). Every field is cut
between characters, and a cut that loses text ends in "…".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

import discord

from adapters.discord.text import (
    clip,
    escape_markdown,
    neutralise,
    neutralise_name,
    no_unfurl,
    split,
)
from bot.events import (
    Buttons,
    SourceLink,
    TicketAction,
    TicketCard,
    TicketStatus,
)
from bot.flow.copy import ACTION_LABELS

__all__ = [
    "BUTTON_ACTIONS",
    "NO_PINGS",
    "add_buttons",
    "card_embed",
    "make_ticket_items",
    "notice_content",
    "reply_content",
    "source_line",
    "split_content",
    "thread_name",
    "ticket_view",
    "trusted_link",
]

CONTENT_LIMIT = 2000
TITLE_LIMIT, DESCRIPTION_LIMIT, FIELD_LIMIT = 256, 4096, 1024
THREAD_NAME_LIMIT = 100
SOURCE_TITLE_LIMIT, SOURCE_LINE_LIMIT = 200, 600
SOURCES_HEADING = "**Sources**"
NO_PINGS = discord.AllowedMentions.none()
COLOURS = {
    TicketStatus.OPEN: 0x3498DB,
    TicketStatus.ESCALATED: 0xE74C3C,
    TicketStatus.CLAIMED: 0xF1C40F,
    TicketStatus.RESOLVED: 0x2ECC71,
    TicketStatus.CLOSED: 0x95A5A6,
}
BUTTON_ACTIONS = tuple(a for a in TicketAction if a is not TicketAction.RECLASSIFY)
"""Lead actions shown as buttons; reclassify is two selects."""
STYLES = {
    TicketAction.CLAIM: discord.ButtonStyle.primary,
    TicketAction.RESOLVE: discord.ButtonStyle.success,
    TicketAction.SOLVED: discord.ButtonStyle.success,
}
REQUESTER_ROW = 4  # the last of a message's five rows: under the card's own
SELECT_OPTIONS = 25  # a select menu's limit
OPTION_LABEL_LIMIT = 100
_VERBS = "|".join(re.escape(action) for action in BUTTON_ACTIONS)

Press = Callable[[discord.Interaction], Coroutine[Any, Any, None]]


def split_content(text: str) -> list[str]:
    """Neutralised message content in pieces Discord accepts (2000 characters), cut at
    lines or words, else between characters; nothing is lost."""
    return split(neutralise(text), CONTENT_LIMIT)


def reply_content(text: str | None, sources: tuple[SourceLink, ...] = ()) -> list[str]:
    """An answer's message contents: its neutralised text (`split_content`), then the
    list of the pages it cites, whole in the last piece when it fits there.

    Sent with embeds suppressed, so neither the text's URLs nor the sources preview.
    """
    pieces = [p for p in split_content(text or "") if p]
    if not sources:
        return pieces or [""]
    listing = "\n".join([SOURCES_HEADING, *(source_line(s) for s in sources)])
    if pieces and len(pieces[-1]) + 2 + len(listing) <= CONTENT_LIMIT:
        return [*pieces[:-1], f"{pieces[-1]}\n\n{listing}"]
    return pieces + split(listing, CONTENT_LIMIT)


def source_line(source: SourceLink) -> str:
    """`[n] [Title](<url>)`, or `[n] Title — location` when the page has no https link
    (or one too long to show whole); the title and location are shown literally."""
    title = clip(source.title.strip() or source.location, SOURCE_TITLE_LIMIT)
    if source.url:
        try:
            line = f"[{source.number}] {trusted_link(title, source.url)}"
        except ValueError:
            line = ""
        if 0 < len(line) <= SOURCE_LINE_LIMIT:
            return line
    where = clip(source.location, SOURCE_LINE_LIMIT - SOURCE_TITLE_LIMIT - 20)
    return f"[{source.number}] {escape_markdown(title)} — {escape_markdown(where)}"


def notice_content(pings: str, text: str, *, with_embed: bool) -> str:
    """A leads notice: the bot's own `pings`, then `text`, cut to one message and marked.

    With an embed the message cannot suppress embeds (it would hide its own), so the
    text's URLs are bracketed instead, which Discord does not preview.
    """
    body = neutralise(text)
    room = CONTENT_LIMIT - (len(pings) + 1 if pings else 0)
    if with_embed:
        brackets = len(no_unfurl(body)) - len(body)  # two characters a URL
        body = no_unfurl(clip(body, max(room - brackets, 1)))
    return f"{pings} {clip(body, room)}".strip()


def thread_name(card: TicketCard | None) -> str:
    """A ticket thread's name (1-100 characters), plain text as Discord shows names."""
    if card is None:
        return "Ticket"
    name = f"Ticket #{card.ticket_id}" + (f": {card.summary}" if card.summary else "")
    return clip(neutralise_name(name), THREAD_NAME_LIMIT)


def trusted_link(text: str, url: str) -> str:
    """A masked link the bot itself writes (to its own sources): the only kind it writes.

    Raises:
        ValueError: `url` is not an https URL without spaces or angle brackets.
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or re.search(r"[\s<>]", url):
        raise ValueError(f"not a trusted link target: {url!r}")
    target = url.replace("(", "%28").replace(")", "%29")
    return f"[{escape_markdown(text)}](<{target}>)"


def _field(text: str, limit: int) -> str:
    return clip(neutralise(text), limit)


def card_embed(card: TicketCard) -> discord.Embed:
    """A ticket card as an embed: title, summary, category, urgency, assignee."""
    embed = discord.Embed(
        title=_field(f"Ticket #{card.ticket_id} · {card.status}", TITLE_LIMIT),
        description=_field(card.summary or "", DESCRIPTION_LIMIT) or None,
        colour=COLOURS.get(card.status, 0x95A5A6),
    )
    embed.add_field(name="Category", value=_field(card.category or "not triaged", FIELD_LIMIT))
    embed.add_field(name="Urgency", value=_field(card.urgency or "not triaged", FIELD_LIMIT))
    if card.team:
        embed.add_field(name="Team", value=_field(card.team, FIELD_LIMIT))
    # The bot's own mentions (ids only): an embed shows the name and pings nobody.
    if card.assignee_id:
        embed.add_field(name="Assignee", value=_mention(card.assignee_id))
    elif card.suggested_assignee_id:
        embed.add_field(name="Suggested", value=_mention(card.suggested_assignee_id))
    return embed


def _mention(user_id: str) -> str:
    return f"<@{user_id}>" if user_id.isdigit() else _field(user_id, 64)


Choices = tuple[tuple[str, str], ...]


def _options(choices: Choices) -> list[discord.SelectOption]:
    return [
        discord.SelectOption(label=clip(text, OPTION_LABEL_LIMIT) or value, value=value)
        for value, text in choices[:SELECT_OPTIONS]
    ]


def make_ticket_items(on_press: Press) -> tuple[type[discord.ui.DynamicItem[Any]], ...]:
    """The persistent button and select classes, bound to the adapter's press handler.

    Their `custom_id` carries the action and the ticket id, so discord.py can rebuild
    them from any old card after a restart once they are registered with
    `client.add_dynamic_items()`.
    """

    class TicketButton(
        discord.ui.DynamicItem[discord.ui.Button[Any]],
        template=rf"ticket:(?P<verb>{_VERBS}):(?P<id>\d+)",
    ):
        def __init__(self, verb: str, ticket_id: int) -> None:
            action = TicketAction(verb)
            style = STYLES.get(action, discord.ButtonStyle.secondary)
            super().__init__(
                discord.ui.Button(
                    label=ACTION_LABELS[action], style=style, custom_id=f"ticket:{verb}:{ticket_id}"
                )
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
        def __init__(self, what: str, ticket_id: int, choices: Choices = ()) -> None:
            # The value names what it sets (`category=low` is no urgency).
            super().__init__(
                discord.ui.Select(
                    custom_id=f"ticket:reclassify-{what}:{ticket_id}",
                    placeholder=f"Reclassify {what}",
                    options=_options(tuple((f"{what}={v}", text) for v, text in choices)),
                )
            )

        @classmethod
        async def from_custom_id(
            cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
        ) -> TicketSelect:
            # Rebuilt to dispatch a pick from an old card: the pick is in the interaction.
            return cls(match["what"], int(match["id"]))

        async def callback(self, interaction: discord.Interaction) -> None:
            await on_press(interaction)

    return TicketButton, TicketSelect


def ticket_view(card: TicketCard, items: tuple[type[Any], ...]) -> discord.ui.View | None:
    """The buttons a card offers in its state, as a persistent view (or None)."""
    button_cls, select_cls = items
    view = discord.ui.View(timeout=None)
    for action in card.actions:
        if action in BUTTON_ACTIONS:
            view.add_item(button_cls(action, card.ticket_id))
        elif action is TicketAction.RECLASSIFY:
            # The workspace's own categories and urgency labels, as the card carries them.
            for what, choices in (
                ("category", card.category_choices),
                ("urgency", card.urgency_choices),
            ):
                if choices:
                    view.add_item(select_cls(what, card.ticket_id, choices))
    return view if view.children else None


def add_buttons(
    view: discord.ui.View | None, buttons: Buttons | None, items: tuple[type[Any], ...]
) -> discord.ui.View | None:
    """`view` (or a new persistent one) with the requester's buttons on a row of their
    own, under any card buttons; None when there is nothing to press."""
    if buttons is None or not buttons.actions:
        return view
    view = view or discord.ui.View(timeout=None)
    button_cls = items[0]
    for action in buttons.actions:
        item = button_cls(action, buttons.ticket_id)
        item.row = REQUESTER_ROW
        view.add_item(item)
    return view
