"""Neutral replies -> Block Kit, built with `slack_sdk.models.blocks`.

Every field with text from outside this module is escaped (`&`, `<`, `>`), so
`<!channel>`, `<!here>`, `<!everyone>`, user-group and user pings in it show as text
and never notify anyone. Text is measured and cut after escaping, never inside an
entity (no `&am` left of `&amp;`), and a cut is marked with "…". Long text is split
into sections of at most 3000 characters and messages of at most 50 blocks.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

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

from bot.events import (
    Buttons,
    HomeSection,
    SourceLink,
    TicketAction,
    TicketCard,
)
from bot.flow.copy import ACTION_LABELS

__all__ = [
    "answer_messages",
    "buttons_block",
    "card_blocks",
    "clip",
    "clip_escaped",
    "clip_plain",
    "escape",
    "home_view",
    "source_fallback",
    "sources_block",
    "split_escaped",
    "text_messages",
]

SECTION_LIMIT = 3000
FIELD_LIMIT = 2000  # a section field's text
HEADER_LIMIT = 150  # a header's plain text
FALLBACK_LIMIT = 300  # the `text=` notifications and screen readers show
MORE = "…"
ENTITIES = ("&amp;", "&lt;", "&gt;")
ZWJ = "\u200d"
JOINERS = {ZWJ, "\ufe0e", "\ufe0f", *(chr(c) for c in range(0x1F3FB, 0x1F400))}  # + skin tones
BLOCKS_PER_MESSAGE = 50
HOME_BLOCK_LIMIT = 100
# The button a lead (or the requester, under an answer) most likely wants.
PRIMARY = frozenset({TicketAction.CLAIM, TicketAction.SOLVED})
CONTEXT_ELEMENTS = 10  # a context block's limit
SOURCE_LIMIT = 300  # one source's line: a title, not a page
LINK_SCHEMES = ("https://", "http://")
URL_LIMIT = 2000  # longer links are shown as text: a context element holds 3000
# What a URL may keep as it is; the rest (`<`, `>`, `|`, spaces, line ends, which would
# end a `<url|text>` early) is percent-encoded. `&` is kept, then escaped like any text.
URL_SAFE = ":/?#[]@!$&'()*+,;=%~"
PIPE_LOOKALIKE = "\u2223"  # mrkdwn has no entity for `|`; link text shows this instead
SELECT_OPTIONS = 100  # a static select's limit
OPTION_TEXT_LIMIT = 75  # an option's label


def escape(text: str) -> str:
    """Slack's three control characters, escaped: no link, mention or ping survives."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _joined(text: str, at: int) -> bool:
    """Whether text[at] belongs to the character before it (an accent, a joiner...)."""
    if at <= 0 or at >= len(text):
        return False
    here, before = text[at], text[at - 1]
    return bool(unicodedata.combining(here)) or here in JOINERS or before == ZWJ


def _safe_cut(escaped: str, at: int) -> int:
    """`at`, or earlier so the cut falls neither inside an entity nor inside a character
    made of several code points (a letter and its accent, an emoji sequence)."""
    for start in range(max(0, at - 4), at):
        if escaped[start] == "&" and any(
            escaped.startswith(e, start) and start + len(e) > at for e in ENTITIES
        ):
            return start
    cut = at
    while cut > 0 and _joined(escaped, cut) and at - cut < 16:
        cut -= 1
    return cut if cut > 0 else at


def clip_escaped(escaped: str, limit: int) -> str:
    """Already-escaped text within `limit` characters; a cut ends in "…"."""
    if len(escaped) <= limit:
        return escaped
    return escaped[: _safe_cut(escaped, limit - len(MORE))] + MORE


def clip(text: str, limit: int) -> str:
    """Escape, then cut to `limit` characters on an entity boundary, marking a cut."""
    return clip_escaped(escape(text), limit)


def clip_plain(text: str, limit: int) -> str:
    """Plain text (headers, placeholders) within `limit` characters, marking a cut."""
    if len(text) <= limit:
        return text
    cut = limit - len(MORE)
    while cut > 0 and _joined(text, cut) and limit - cut < 16:
        cut -= 1
    return text[:cut] + MORE


def split_escaped(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Escape, then split like `split_text` (at line or word ends if possible), but a
    hard cut never falls inside an entity."""
    pieces: list[str] = []
    rest = escape(text)
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = _safe_cut(rest, limit)
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def text_messages(text: str) -> list[list[Block]]:
    """Escaped text as section blocks, grouped into messages of at most 50 blocks."""
    # Escaping can lengthen text; split the escaped form so no section passes 3000.
    sections: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=piece, verbatim=True))
        for piece in split_escaped(text)
    ]
    return [
        sections[i : i + BLOCKS_PER_MESSAGE] for i in range(0, len(sections), BLOCKS_PER_MESSAGE)
    ]


def _link_url(url: str | None) -> str | None:
    """`url` made safe inside `<...|...>`, or None when it is no web link."""
    if not url or not url.lower().startswith(LINK_SCHEMES):
        return None
    safe = escape(quote(url, safe=URL_SAFE))
    return safe if len(safe) <= URL_LIMIT else None


def _source_line(source: SourceLink) -> str:
    number = f"[{source.number}] "
    url = _link_url(source.url)
    if url is None:
        return number + clip(f"{source.title} — {source.location}", SOURCE_LIMIT)
    title = clip(source.title or source.location, SOURCE_LIMIT).replace("|", PIPE_LOOKALIKE)
    return f"{number}<{url}|{title}>"


def sources_block(sources: tuple[SourceLink, ...]) -> ContextBlock:
    """The cited pages under an answer: `[n] <url|title>`, or `[n] title — location`."""
    lines = [_source_line(s) for s in sources]
    if len(lines) > CONTEXT_ELEMENTS:  # the last element says how many more there are
        rest = len(lines) - CONTEXT_ELEMENTS + 1
        lines = [*lines[: CONTEXT_ELEMENTS - 1], f"(+{rest} more)"]
    return ContextBlock(elements=[MarkdownTextObject(text=line, verbatim=True) for line in lines])


def source_fallback(text: str, sources: tuple[SourceLink, ...]) -> str:
    """The `text=` of an answer: its start, then the titles it cites, within 300."""
    if not sources:
        return clip(text, FALLBACK_LIMIT)
    titles = "Sources: " + "; ".join(f"[{s.number}] {s.title}" for s in sources)
    listed = clip(titles, FALLBACK_LIMIT // 2)
    if not text:
        return listed
    return clip(text, FALLBACK_LIMIT - len(listed) - 1) + "\n" + listed


def _button(ticket_id: int, action: TicketAction) -> ButtonElement:
    return ButtonElement(
        text=ACTION_LABELS[action],
        action_id=f"ticket:{action}",
        value=str(ticket_id),
        style="primary" if action in PRIMARY else None,
    )


def buttons_block(buttons: Buttons) -> ActionsBlock:
    """The requester's buttons under a reply (Solved / I need a person, or 👍 / 👎)."""
    return ActionsBlock(
        block_id=f"requester-{buttons.ticket_id}",
        elements=[_button(buttons.ticket_id, action) for action in buttons.actions],
    )


def _append(messages: list[list[Block]], block: Block) -> None:
    if messages and len(messages[-1]) < BLOCKS_PER_MESSAGE:
        messages[-1].append(block)
    else:
        messages.append([block])


def answer_messages(
    text: str, sources: tuple[SourceLink, ...], buttons: Buttons | None = None
) -> list[list[Block]]:
    """An answer's messages: its text in sections, then in the last message the sources
    and the requester's buttons."""
    messages = text_messages(text) if text else []
    if sources:
        _append(messages, sources_block(sources))
    if buttons is not None and buttons.actions:
        _append(messages, buttons_block(buttons))
    return messages


def _fields(card: TicketCard) -> list[MarkdownTextObject]:
    limit = FIELD_LIMIT - len("*Category*\n")
    fields = [
        MarkdownTextObject(text="*Category*\n" + clip(card.category or "not triaged", limit)),
        MarkdownTextObject(text="*Urgency*\n" + clip(card.urgency or "not triaged", limit)),
    ]
    if card.team:
        fields.append(MarkdownTextObject(text="*Team*\n" + clip(card.team, limit)))
    # The mentions on a card are ours; the ids inside them are escaped like any text.
    if card.assignee_id:
        assignee = clip(card.assignee_id, 64)
        fields.append(MarkdownTextObject(text=f"*Assignee*\n<@{assignee}>"))
    elif card.suggested_assignee_id:
        suggested = clip(card.suggested_assignee_id, 64)
        fields.append(MarkdownTextObject(text=f"*Suggested*\n<@{suggested}>"))
    return fields


def _elements(card: TicketCard) -> list[ButtonElement | StaticSelectElement]:
    elements: list[ButtonElement | StaticSelectElement] = []
    for action in card.actions:
        if action is TicketAction.RECLASSIFY:
            # The workspace's own categories and urgency labels, as the card carries them.
            for what, choices in (
                ("category", card.category_choices),
                ("urgency", card.urgency_choices),
            ):
                if choices:
                    elements.append(_select(card.ticket_id, what, choices))
            continue
        elements.append(_button(card.ticket_id, action))
    return elements


def _select(ticket_id: int, what: str, choices: tuple[tuple[str, str], ...]) -> StaticSelectElement:
    # The value names what it sets (`category=low` is no urgency), after the ticket id.
    return StaticSelectElement(
        placeholder=clip_plain(f"Reclassify {what}", 150),
        action_id=f"ticket:reclassify-{what}",
        options=[
            Option(value=f"{ticket_id}:{what}={value}", label=clip_plain(text, OPTION_TEXT_LIMIT))
            for value, text in choices[:SELECT_OPTIONS]
        ],
    )


def card_blocks(card: TicketCard) -> list[Block]:
    """A ticket card: header, fields, summary, and the lead buttons its state allows."""
    blocks: list[Block] = []
    blocks.append(
        HeaderBlock(text=clip_plain(f"Ticket #{card.ticket_id} · {card.status}", HEADER_LIMIT))
    )
    blocks.append(SectionBlock(fields=_fields(card)))
    if card.summary:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=clip(card.summary, SECTION_LIMIT), verbatim=True)
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
        blocks.append(HeaderBlock(text=clip_plain(section.title, HEADER_LIMIT)))
        body = "\n".join(section.lines) or " "
        blocks.extend(
            SectionBlock(text=MarkdownTextObject(text=piece, verbatim=True))
            for piece in split_escaped(body)
        )
    if len(blocks) > HOME_BLOCK_LIMIT:
        blocks = blocks[: HOME_BLOCK_LIMIT - 1]
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="(more not shown)")]))
    return View(type="home", blocks=blocks)
