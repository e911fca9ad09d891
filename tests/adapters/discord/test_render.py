"""Neutral ticket cards -> Discord embeds and persistent components, and back again."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import discord
import pytest

from adapters.discord.render import (
    BUTTON_ACTIONS,
    card_embed,
    make_ticket_items,
    split_content,
    ticket_view,
)
from adapters.discord.to_event import from_component, parse_custom_id
from bot.config.taxonomy import DEFAULT_TAXONOMY
from bot.events import REQUESTER_ACTIONS, TicketAction, TicketCard, TicketStatus
from bot.flow.copy import ACTION_LABELS
from bot.tickets.cards import category_choices, urgency_choices
from tests.adapters.discord.test_to_event import load, make_world

WORKING = (
    TicketAction.CLAIM,
    TicketAction.RESOLVE,
    TicketAction.RECLASSIFY,
    TicketAction.ASK_REASONER,
)
EVERY_ACTION = tuple(a for a in TicketAction if a not in REQUESTER_ACTIONS)  # a card's
STYLES = {
    TicketAction.CLAIM: discord.ButtonStyle.primary,
    TicketAction.RESOLVE: discord.ButtonStyle.success,
    TicketAction.REOPEN: discord.ButtonStyle.secondary,
    TicketAction.ASK_REASONER: discord.ButtonStyle.secondary,
    TicketAction.SAVE_ANSWER: discord.ButtonStyle.secondary,
}


def card(**overrides: Any) -> TicketCard:
    values: dict[str, Any] = {
        "ticket_id": 7,
        "status": TicketStatus.ESCALATED,
        "category": "billing",
        "urgency": "high",
        "summary": "Charged twice for March",
        "actions": WORKING,
        "category_choices": category_choices(DEFAULT_TAXONOMY),
        "urgency_choices": urgency_choices(DEFAULT_TAXONOMY),
    }
    values.update(overrides)
    return TicketCard(**values)


async def ignore(interaction: discord.Interaction) -> None:
    raise AssertionError("not pressed in this test")


ITEMS = make_ticket_items(ignore)


def components(view: discord.ui.View | None) -> list[dict[str, Any]]:
    """The view as the action rows Discord receives."""
    assert view is not None
    return view.to_components()


def flat(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for row in rows for item in row["components"]]


# --- embeds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "colour"),
    [
        (TicketStatus.OPEN, 0x3498DB),
        (TicketStatus.ESCALATED, 0xE74C3C),
        (TicketStatus.CLAIMED, 0xF1C40F),
        (TicketStatus.RESOLVED, 0x2ECC71),
        (TicketStatus.CLOSED, 0x95A5A6),
    ],
)
def test_the_embed_shows_the_ticket_in_its_status_colour(status: TicketStatus, colour: int) -> None:
    embed = card_embed(card(status=status))
    assert embed.to_dict() == {
        "type": "rich",
        "title": f"Ticket #7 · {status}",
        "description": "Charged twice for March",
        "color": colour,
        "fields": [
            {"name": "Category", "value": "billing", "inline": True},
            {"name": "Urgency", "value": "high", "inline": True},
        ],
        "flags": 0,
    }


def test_an_assigned_untriaged_card_without_summary() -> None:
    embed = card_embed(
        card(
            status=TicketStatus.CLAIMED,
            category=None,
            urgency=None,
            summary="",
            assignee_id="839201175562731530",
        )
    )
    assert embed.title == "Ticket #7 · claimed"
    assert embed.description is None
    assert [(f.name, f.value) for f in embed.fields] == [
        ("Category", "not triaged"),
        ("Urgency", "not triaged"),
        ("Assignee", "<@839201175562731530>"),
    ]


def test_the_embed_stays_within_discords_limits_and_marks_its_cuts() -> None:
    summary = "".join(f"line {n}: the charge appeared twice\n" for n in range(200))
    assert len(summary) > 4096
    embed = card_embed(card(ticket_id=10**300, summary=summary, category="c" * 2000))
    assert embed.title is not None
    assert len(embed.title) <= 256
    assert embed.title.startswith("Ticket #1000")
    assert embed.title.endswith("0…")
    assert embed.description is not None
    assert len(embed.description) <= 4096
    assert embed.description.endswith("…")
    assert summary.startswith(embed.description[:-1])
    assert len(embed.fields[0].value) <= 1024
    assert embed.fields[0].value == "c" * 1023 + "…"
    realistic = card_embed(card(summary=summary, assignee_id="839201175562731530"))
    assert len(realistic) <= 6000  # Discord's total for all of an embed's text


FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 7 code points
FLAG = "\U0001f1eb\U0001f1f7"  # two regional indicators: one flag
MASKED_LINK = re.compile(r"\[[^\]]*\]\(")
MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|@(?:everyone|here)")
EVIL = "[Log in here](https://evil.example/login) @everyone @here <@5002> <@!5002> <@&400> <#301>"


def visible(text: str) -> str:
    """What a reader sees: Discord hides the escapes, zero-width spaces do not show."""
    return text.replace("\\", "").replace("\u200b", "")


def test_the_embed_text_cannot_form_masked_links_or_mentions() -> None:
    embed = card_embed(
        card(summary=EVIL, category="[x](https://evil.example)", assignee_id="839201175562731530")
    )
    texts = [embed.description or "", *(f.value or "" for f in embed.fields[:2])]
    assert not any(MASKED_LINK.search(t) or MENTION.search(t) for t in texts)
    assert visible(texts[0]) == EVIL
    assert visible(texts[1]) == "[x](https://evil.example)"
    assert embed.fields[2].value == "<@839201175562731530>"  # the bot's own mention stays


# --- components ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "actions",
    [
        WORKING,
        (TicketAction.RESOLVE, TicketAction.RECLASSIFY, TicketAction.ASK_REASONER),
        (TicketAction.REOPEN,),
        (TicketAction.REOPEN, TicketAction.SAVE_ANSWER),  # a resolved ticket's card
        EVERY_ACTION,
    ],
)
async def test_the_view_offers_the_cards_actions(actions: tuple[TicketAction, ...]) -> None:
    view = ticket_view(card(actions=actions), ITEMS)
    assert view is not None
    assert view.timeout is None
    assert view.is_persistent()
    rows = components(view)
    buttons = [c for c in flat(rows) if c["type"] == 2]
    selects = [c for c in flat(rows) if c["type"] == 3]
    wanted = [a for a in actions if a in BUTTON_ACTIONS]
    assert [b["label"] for b in buttons] == [ACTION_LABELS[a] for a in wanted]
    assert [b["custom_id"] for b in buttons] == [f"ticket:{a}:7" for a in wanted]
    assert [b["style"] for b in buttons] == [STYLES[a].value for a in wanted]
    if TicketAction.RECLASSIFY in actions:
        category, urgency = selects
        assert category["custom_id"] == "ticket:reclassify-category:7"
        assert urgency["custom_id"] == "ticket:reclassify-urgency:7"
        assert [(o["label"], o["value"]) for o in category["options"]] == [
            ("billing", "category=billing"),
            ("bug", "category=bug"),
            ("feature request", "category=feature_request"),
            ("account", "category=account"),
            ("other", "category=other"),
        ]
        assert [(o["label"], o["value"]) for o in urgency["options"]] == [
            ("high", "urgency=high"),
            ("medium", "urgency=medium"),
            ("low", "urgency=low"),
        ]
        assert (category["min_values"], category["max_values"]) == (1, 1)
    else:
        assert selects == []
    # Discord's own limits: 5 rows, 5 buttons or one select a row, labels 80, ids 100.
    assert len(rows) <= 5
    for row in rows:
        kinds = [c["type"] for c in row["components"]]
        assert kinds in ([3],) or (set(kinds) == {2} and len(kinds) <= 5)
    assert all(len(c.get("label") or "") <= 80 for c in flat(rows))
    assert all(len(c["custom_id"]) <= 100 for c in flat(rows))


async def test_a_card_with_no_actions_has_no_view() -> None:
    assert ticket_view(card(status=TicketStatus.CLOSED, actions=()), ITEMS) is None


async def test_every_custom_id_round_trips_through_parse_custom_id() -> None:
    rows = components(ticket_view(card(ticket_id=4821, actions=EVERY_ACTION), ITEMS))
    parsed = [parse_custom_id(c["custom_id"]) for c in flat(rows)]
    assert sorted(parsed) == sorted(
        [(str(a), 4821) for a in BUTTON_ACTIONS if a not in REQUESTER_ACTIONS]
        + [("reclassify-category", 4821), ("reclassify-urgency", 4821)]
    )


async def test_the_recorded_card_is_what_the_view_renders() -> None:
    """The card in the interaction fixtures is this card as Discord echoes it back."""
    recorded = load("interaction_button_claim")
    sent = components(ticket_view(card(), ITEMS))
    echoed = recorded["message"]["components"]
    ids = [[c["custom_id"] for c in row["components"]] for row in sent]
    assert ids == [[c["custom_id"] for c in row["components"]] for row in echoed]
    assert recorded["message"]["embeds"][0]["title"] == card_embed(card()).title


# --- presses come back through discord.py's dynamic items ---------------------------------


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("interaction_button_claim", (TicketAction.CLAIM, 7, None)),
        ("interaction_select_reclassify", (TicketAction.RECLASSIFY, 7, "account")),
    ],
)
async def test_a_press_on_an_old_card_reaches_the_handler_after_a_restart(
    fixture: str, expected: tuple[TicketAction, int, str | None]
) -> None:
    """Only the registered item classes, no view in memory: what a restarted bot has."""
    pressed: asyncio.Queue[discord.Interaction] = asyncio.Queue()

    async def on_press(interaction: discord.Interaction) -> None:
        await pressed.put(interaction)

    world = make_world()
    world.client.add_dynamic_items(*make_ticket_items(on_press))
    world.parse("INTERACTION_CREATE", load(fixture))
    interaction = await asyncio.wait_for(pressed.get(), 5)
    event = from_component(interaction)
    assert event is not None
    assert (event.action, event.ticket_id, event.value) == expected
    assert pressed.empty()


# --- content -----------------------------------------------------------------------------


def _rebuilt(text: str, pieces: list[str]) -> bool:
    """Whether `pieces` are `text` in order, with only spaces/newlines dropped at the cuts."""
    at = 0
    for piece in pieces:
        if not text.startswith(piece, at):
            return False
        at += len(piece)
        while at < len(text) and text[at] in "\n ":
            at += 1
    return at == len(text)


@pytest.mark.parametrize(
    "text",
    [
        "short answer",
        "word " * 900,  # 4500 characters of words
        "\n".join(f"{n}. step {n} of the export, then wait for the e-mail" for n in range(120)),
        "x" * 4500,  # no place to cut: hard cuts at 2000
        "é🙂 " * 1500,
    ],
)
def test_split_content_keeps_every_character_in_pieces_of_at_most_2000(text: str) -> None:
    pieces = split_content(text)
    assert all(0 < len(p) <= 2000 for p in pieces)
    assert _rebuilt(text, pieces)
    assert re.sub(r"\s", "", "".join(pieces)) == re.sub(r"\s", "", text)


def test_split_content_hard_cuts_lose_nothing_and_empty_text_is_one_empty_piece() -> None:
    assert split_content("x" * 4500) == ["x" * 2000, "x" * 2000, "x" * 500]
    assert split_content("") == [""]
    assert split_content("a" * 2000) == ["a" * 2000]


def test_split_content_neutralises_links_and_mentions_in_code_too() -> None:
    """Where Discord sees code cannot be told safely (a link's text may hold the backtick
    that seems to open it), so code is escaped too; the escape then shows there."""
    code = "```js\nhandlers[name](event) // <@5002>\n```"
    (piece,) = split_content(f"{EVIL}\n{code}")
    assert not MASKED_LINK.search(piece)
    assert not MENTION.search(piece)
    assert visible(piece) == f"{EVIL}\n{code}"
    sneaky = "[`](https://evil.example) `"  # Discord: a link whose text is a backtick
    assert not MASKED_LINK.search(split_content(sneaky)[0])


def test_split_content_neutralises_each_piece_as_discord_renders_it() -> None:
    """A cut inside a code block leaves the rest outside of it, so it is escaped too."""
    code = "```\n" + "x = 1\n" * 390 + "[Log in](https://evil.example) <@5002>\n```"
    pieces = split_content(code)
    assert len(pieces) == 2
    assert all(len(p) <= 2000 for p in pieces)
    assert not MASKED_LINK.search(pieces[1])
    assert not MENTION.search(pieces[1])


@pytest.mark.parametrize("cluster", [FAMILY, FLAG, "e\u0301\u0302", "\u270b\U0001f3fd"])
def test_split_content_never_cuts_inside_an_emoji_or_an_accented_letter(cluster: str) -> None:
    for shift in range(len(cluster) + 1):
        text = "x" * (2000 - shift) + cluster * 3
        first, second = split_content(text)
        assert first + second == text
        assert len(first) <= 2000
        assert first.endswith(("x", cluster)), shift
        assert second.startswith(cluster), shift


def test_a_trusted_link_is_the_one_masked_link_the_bot_writes() -> None:
    from adapters.discord.render import trusted_link

    link = trusted_link("Billing FAQ [v2]", "https://docs.acme.example/billing?a=(1)")
    assert link == "[Billing FAQ \\[v2\\]](<https://docs.acme.example/billing?a=%281%29>)"
    assert MASKED_LINK.search(trusted_link("Billing FAQ", "https://docs.acme.example/b"))
    for bad in ("javascript:alert(1)", "http://docs.acme.example", "https://x.example/<a>"):
        with pytest.raises(ValueError, match="trusted"):
            trusted_link("FAQ", bad)


@pytest.mark.parametrize(
    ("text", "limit", "clipped"),
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("abcdefghijk", 10, "abcdefghi…"),
        ("abcdefgh " + FAMILY, 12, "abcdefgh…"),  # the family emoji would be cut
        ("abcdefg" + FAMILY + "zz", 15, "abcdefg" + FAMILY + "…"),
        ("abcdefg" + FLAG + FLAG, 10, "abcdefg" + FLAG + "…"),
        ("abcdefgh" + FLAG + FLAG + "x", 12, "abcdefgh" + FLAG + "…"),  # not half a flag
        ("abcdefgh" + "e\u0301\u0302x", 11, "abcdefgh…"),
        ("abcdefgh\u200d" + "x" * 5, 10, "abcdefgh…"),
    ],
)
def test_clip_cuts_on_a_character_boundary_and_marks_the_cut(
    text: str, limit: int, clipped: str
) -> None:
    from adapters.discord.text import clip

    assert clip(text, limit) == clipped
    assert len(clip(text, limit)) <= limit


@pytest.mark.parametrize(
    ("summary", "name"),
    [
        ("Charged twice", "Ticket #7: Charged twice"),
        ("", "Ticket #7"),
        ("a" * 120, "Ticket #7: " + "a" * 88 + "…"),
        ("a" * 86 + FAMILY, "Ticket #7: " + "a" * 86 + "…"),
        ("a" * 87 + "e\u0301" + "b" * 5, "Ticket #7: " + "a" * 87 + "…"),
    ],
)
def test_thread_names_fit_in_100_and_keep_whole_characters(summary: str, name: str) -> None:
    from adapters.discord.render import thread_name

    got = thread_name(card(summary=summary))
    assert got == name
    assert 1 <= len(got) <= 100
    assert thread_name(None) == "Ticket"


def test_thread_names_cannot_form_links_or_mentions() -> None:
    from adapters.discord.render import thread_name

    got = thread_name(card(summary="@here [Log in](https://evil.example) <@5002>"))
    assert not MASKED_LINK.search(got)
    assert not MENTION.search(got)
    assert "\\" not in got  # names show no markdown, so no escapes that would show
    assert visible(got) == "Ticket #7: @here [Log in](https://evil.example) <@5002>"


@pytest.mark.parametrize(
    ("text", "bracketed"),
    [
        ("see https://e.example/p, or not", "see <https://e.example/p>, or not"),
        ("(https://q.example/z).", "(<https://q.example/z>)."),
        ("https://w.example/a_(b)", "<https://w.example/a_(b)>"),
        ("already <https://e.example>", "already <https://e.example>"),
        ("no url here", "no url here"),
    ],
)
def test_no_unfurl_brackets_bare_urls_only(text: str, bracketed: str) -> None:
    from adapters.discord.text import no_unfurl

    assert no_unfurl(text) == bracketed


# --- the workspace's taxonomy and teams on a card ----------------------------------------


def test_the_embed_shows_the_team_and_the_suggested_lead_until_someone_claims() -> None:
    suggested = card(team="bugs", suggested_assignee_id="839201175562731530")
    assert [(f.name, f.value) for f in card_embed(suggested).fields][2:] == [
        ("Team", "bugs"),
        ("Suggested", "<@839201175562731530>"),
    ]
    claimed = suggested.model_copy(update={"assignee_id": "839201175562731531"})
    assert [(f.name, f.value) for f in card_embed(claimed).fields][2:] == [
        ("Team", "bugs"),
        ("Assignee", "<@839201175562731531>"),
    ]
    odd = card(suggested_assignee_id="@everyone")  # not a user id: shown, never a mention
    assert MENTION.search(card_embed(odd).fields[-1].value) is None


async def test_the_selects_offer_the_cards_own_choices_within_discords_25() -> None:
    custom = card(
        category_choices=tuple((f"c{n}", f"category {n}") for n in range(40)),
        urgency_choices=(("high", "P1 - critical"), ("medium", "P2"), ("low", "P3")),
    )
    category, urgency = [c for c in flat(components(ticket_view(custom, ITEMS))) if c["type"] == 3]
    assert len(category["options"]) == 25
    first = category["options"][0]
    assert (first["label"], first["value"]) == ("category 0", "category=c0")
    assert [(o["label"], o["value"]) for o in urgency["options"]] == [
        ("P1 - critical", "urgency=high"),
        ("P2", "urgency=medium"),
        ("P3", "urgency=low"),
    ]
    bare = card(category_choices=(), urgency_choices=())
    assert [c for c in flat(components(ticket_view(bare, ITEMS))) if c["type"] == 3] == []
