"""Neutral replies -> Block Kit, built with `slack_sdk.models.blocks`.

Model-written text is escaped (`&`, `<`, `>`), so `<!channel>`, `<!here>`,
`<!everyone>`, user-group and user pings in it show as text and never notify
anyone. Long text is split into sections of at most 3000 characters and messages
of at most 50 blocks.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from adapters.base import split_text
from bot.events import Category, HomeSection, TicketAction, TicketCard, Urgency
from bot.flow.copy import ACTION_LABELS, label

__all__ = ["card_blocks", "escape", "home_view", "text_messages"]

SECTION_LIMIT = 3000
BLOCKS_PER_MESSAGE = 50
HOME_BLOCK_LIMIT = 100
PRIMARY = frozenset({TicketAction.CLAIM})  # the button a lead most likely wants


def escape(text: str) -> str:
    """Slack's three control characters, escaped: no link, mention or ping survives."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text_messages(text: str) -> list[list[Block]]:
    """Escaped text as section blocks, grouped into messages of at most 50 blocks."""
    # Escaping can lengthen text; split the escaped form so no section passes 3000.
    sections: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=piece, verbatim=True))
        for piece in split_text(escape(text), SECTION_LIMIT)
    ]
    return [
        sections[i : i + BLOCKS_PER_MESSAGE] for i in range(0, len(sections), BLOCKS_PER_MESSAGE)
    ]


def _fields(card: TicketCard) -> list[MarkdownTextObject]:
    fields = [
        MarkdownTextObject(text=f"*Category*\n{card.category or 'not triaged'}"),
        MarkdownTextObject(text=f"*Urgency*\n{card.urgency or 'not triaged'}"),
    ]
    if card.assignee_id:
        fields.append(MarkdownTextObject(text=f"*Assignee*\n<@{card.assignee_id}>"))
    return fields


def _elements(card: TicketCard) -> list[ButtonElement | StaticSelectElement]:
    elements: list[ButtonElement | StaticSelectElement] = []
    for action in card.actions:
        if action is TicketAction.RECLASSIFY:
            elements.append(_select(card.ticket_id, "category", list(Category)))
            elements.append(_select(card.ticket_id, "urgency", list(Urgency)))
            continue
        elements.append(
            ButtonElement(
                text=ACTION_LABELS[action],
                action_id=f"ticket:{action}",
                value=str(card.ticket_id),
                style="primary" if action in PRIMARY else None,
            )
        )
    return elements


def _select(ticket_id: int, what: str, values: list[str]) -> StaticSelectElement:
    return StaticSelectElement(
        placeholder=f"Reclassify {what}",
        action_id=f"ticket:reclassify-{what}",
        options=[Option(value=f"{ticket_id}:{v}", label=label(v)) for v in values],
    )


def card_blocks(card: TicketCard) -> list[Block]:
    """A ticket card: header, fields, summary, and the lead buttons its state allows."""
    blocks: list[Block] = []
    blocks.append(HeaderBlock(text=f"Ticket #{card.ticket_id} · {card.status}"[:150]))
    blocks.append(SectionBlock(fields=_fields(card)))
    if card.summary:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=escape(card.summary)[:SECTION_LIMIT], verbatim=True)
            )
        )
    elements = _elements(card)
    if elements:
        blocks.append(ActionsBlock(block_id=f"ticket-{card.ticket_id}", elements=elements))
    return blocks


def home_view(sections: tuple[HomeSection, ...]) -> View:
    """An App Home tab of titled sections, within the 100-block limit."""
    blocks: list[Block] = []
    for section in sections:
        blocks.append(HeaderBlock(text=section.title[:150]))
        body = "\n".join(section.lines) or " "
        blocks.extend(
            SectionBlock(text=MarkdownTextObject(text=piece, verbatim=True))
            for piece in split_text(escape(body), SECTION_LIMIT)
        )
    if len(blocks) > HOME_BLOCK_LIMIT:
        blocks = blocks[: HOME_BLOCK_LIMIT - 1]
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="(more not shown)")]))
    return View(type="home", blocks=blocks)
