"""Every rendered field is escaped, and cut after escaping on a whole character or entity.

A cut is marked with "…"; `&amp;` is never left as `&am`. Block Kit output goes through
slack_sdk's own validation (`to_dict()`); the fallback `text=` is checked on what the
outlet really sends to the (fake) Web API.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from adapters.slack.outlet import SlackOutlet
from adapters.slack.render import (
    SECTION_LIMIT,
    answer_messages,
    card_blocks,
    home_view,
    sources_block,
    text_messages,
)
from bot.events import (
    CardRef,
    HomeSection,
    Notify,
    Place,
    Platform,
    PostReply,
    SourceLink,
    TicketAction,
    TicketCard,
    TicketStatus,
    UpdateCard,
)
from tests.fakes.slack import FakeSlack

BROKEN = re.compile(r"&(?!amp;|lt;|gt;)")  # an `&` that does not start a whole entity
PLACE = Place(platform=Platform.SLACK, workspace_id="T_ACME", channel_id="C_HELP")


def _whole(text: str) -> bool:
    return BROKEN.search(text) is None and "<" not in text and ">" not in text


def _texts(blocks: list[Any]) -> list[str]:
    found: list[str] = []
    for block in blocks:
        data = block.to_dict() if hasattr(block, "to_dict") else block
        if isinstance(data.get("text"), dict):
            found.append(data["text"]["text"])
        found.extend(f["text"] for f in data.get("fields") or ())
    return found


def test_clip_cuts_after_escaping_and_never_inside_an_entity() -> None:
    for offset in range(6):
        text = "a" * (SECTION_LIMIT - 3 - offset) + "&" * 10
        cut = render.clip(text, SECTION_LIMIT)
        assert len(cut) <= SECTION_LIMIT
        assert cut.endswith("…")
        assert _whole(cut.removesuffix("…")), cut[-12:]
    assert render.clip("short & sweet", 300) == "short &amp; sweet"  # nothing cut, nothing marked


def test_clip_never_splits_a_character_made_of_several_code_points() -> None:
    for unit in ("e\u0301", "\U0001f44d\U0001f3fd", "\U0001f469\u200d\U0001f4bb"):
        for offset in range(3):
            cut = render.clip("x" * offset + unit * 200, 300)
            assert cut.endswith("…")
            body = cut.removesuffix("…").removeprefix("x" * offset)
            assert body == unit * (len(body) // len(unit)), (unit, offset)
    header = render.clip_plain("e\u0301" * 100, 150)
    assert header.removesuffix("…") == "e\u0301" * 74


def test_card_fields_are_escaped() -> None:
    card = TicketCard(
        ticket_id=3,
        status=TicketStatus.OPEN,
        category="<!channel> billing",
        urgency="high & <!here>",
        assignee_id="U_LEAD><!everyone",
        summary="ok",
    )
    fields = _texts(card_blocks(card))[1:4]  # after the header
    assert fields[0] == "*Category*\n&lt;!channel&gt; billing"
    assert fields[1] == "*Urgency*\nhigh &amp; &lt;!here&gt;"
    assert fields[2] == "*Assignee*\n<@U_LEAD&gt;&lt;!everyone>"
    assert "<!" not in str([b.to_dict() for b in card_blocks(card)])


def test_a_long_summary_is_cut_on_an_entity_boundary_and_marked() -> None:
    card = TicketCard(
        ticket_id=4, status=TicketStatus.OPEN, summary="s" * (SECTION_LIMIT - 2) + "& more"
    )
    blocks = [b.to_dict() for b in card_blocks(card)]  # validates against Block Kit
    summary = blocks[2]["text"]["text"]
    assert len(summary) <= SECTION_LIMIT
    assert summary.endswith("…")
    assert _whole(summary.removesuffix("…"))


def test_split_text_sections_keep_entities_whole() -> None:
    for offset in range(5):
        pieces = _texts(text_messages("x" * offset + "&" * 2000)[0])
        assert len(pieces) > 1
        assert all(len(p) <= SECTION_LIMIT and _whole(p) for p in pieces)
        assert "".join(pieces) == "x" * offset + "&amp;" * 2000  # nothing lost by splitting


def test_home_sections_keep_entities_whole() -> None:
    view = home_view((HomeSection(title="T" * 200, lines=("y" + "<" * 1500,)),)).to_dict()
    header, *sections = view["blocks"]
    assert len(header["text"]["text"]) <= 150
    assert header["text"]["text"].endswith("…")
    assert all(_whole(s["text"]["text"]) for s in sections)


async def _outlet(fake: FakeSlack) -> SlackOutlet:
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
    return SlackOutlet(client, lead_group_id="S_LEADS")


async def test_the_fallback_text_is_escaped_then_cut_to_300(fake_slack: FakeSlack) -> None:
    outlet = await _outlet(fake_slack)
    text = "a" + "&" * 400
    card = TicketCard(ticket_id=5, status=TicketStatus.OPEN, summary="<b>" * 200)
    await outlet.post_reply(PostReply(place=PLACE, text=text, card=card))
    await outlet.notify(Notify(place=PLACE, text=text, ping_leads=True))
    posts = fake_slack.calls_to("chat.postMessage")
    assert len(posts) == 2  # the card with the answer, the notice
    for post in posts:
        fallback = str(post.params["text"])
        assert len(fallback) <= 300, len(fallback)
        assert fallback.endswith("…")
        assert _whole(fallback.removesuffix("…").removeprefix("<!subteam^S_LEADS> "))


# --- the sources an answer cites -------------------------------------------------------


def _source(
    number: int, title: str, location: str = "guides/setup.md", url: str | None = None
) -> SourceLink:
    return SourceLink(number=number, title=title, location=location, url=url)


def _lines(block: Any) -> list[str]:
    return [e["text"] for e in block.to_dict()["elements"]]  # to_dict() validates it


def test_sources_are_numbered_as_the_text_cites_them_and_linked() -> None:
    block = sources_block(
        (
            _source(1, "Refunds", url="https://help.acme.test/refunds"),
            _source(3, "Setup guide"),
        )
    )
    assert block.to_dict()["type"] == "context"
    assert _lines(block) == [
        "[1] <https://help.acme.test/refunds|Refunds>",
        "[3] Setup guide — guides/setup.md",
    ]


def test_a_source_title_cannot_break_its_link_or_ping_anyone() -> None:
    nasty = "Billing & <!channel> | refunds >"
    (linked, plain) = _lines(
        sources_block(
            (
                _source(1, nasty, url="https://help.acme.test/a?b=1&c=<2>|x y"),
                _source(2, nasty, location="faq/<@U_CEO>.md"),
            )
        )
    )
    url, _, title = linked.removeprefix("[1] <").removesuffix(">").partition("|")
    assert url == "https://help.acme.test/a?b=1&amp;c=%3C2%3E%7Cx%20y"
    assert title == "Billing &amp; &lt;!channel&gt; \u2223 refunds &gt;"
    assert [linked.count(c) for c in "|<>"] == [1, 1, 1]  # the link's own, nothing more
    assert plain == "[2] Billing &amp; &lt;!channel&gt; | refunds &gt; — faq/&lt;@U_CEO&gt;.md"
    assert _whole(plain)


def test_a_source_whose_url_is_no_web_link_or_too_long_is_shown_as_text() -> None:
    odd = (
        _source(4, "Notes", "notes.md", url="javascript:alert(1)"),
        _source(5, "Huge", "huge.md", url="https://help.acme.test/" + "a" * 2000),
    )
    assert _lines(sources_block(odd)) == ["[4] Notes — notes.md", "[5] Huge — huge.md"]


def test_many_sources_stay_within_a_context_blocks_ten_elements() -> None:
    lines = _lines(sources_block(tuple(_source(n, f"Page {n}") for n in range(1, 15))))
    assert len(lines) == 10
    assert lines[8].startswith("[9] Page 9")
    assert lines[9] == "(+5 more)"


def test_sources_go_under_the_last_message_of_a_long_answer() -> None:
    sources = (_source(1, "Refunds"),)
    (only,) = answer_messages("short answer", sources)
    assert [b.type for b in only] == ["section", "context"]
    full = "x" * (SECTION_LIMIT * 50 - 100)  # 50 sections: the first message is full
    messages = answer_messages(full, sources)
    assert len(messages[0]) == 50
    assert [b.type for b in messages[-1]] == ["context"]
    assert answer_messages("no sources", ()) == text_messages("no sources")


async def test_an_answer_with_sources_is_posted_with_them_and_their_titles_in_the_fallback(
    fake_slack: FakeSlack,
) -> None:
    outlet = await _outlet(fake_slack)
    sources = (
        _source(1, "Refunds & credits", url="https://help.acme.test/refunds"),
        _source(2, "Setup guide"),
    )
    await outlet.post_reply(
        PostReply(place=PLACE, text="See [1] and [2] " + "y" * 400, sources=sources)
    )
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert [b["type"] for b in post.blocks] == ["section", "context"]
    assert [e["text"] for e in post.blocks[-1]["elements"]] == [
        "[1] <https://help.acme.test/refunds|Refunds &amp; credits>",
        "[2] Setup guide — guides/setup.md",
    ]
    fallback = str(post.params["text"])
    assert len(fallback) <= 300
    assert fallback.startswith("See [1] and [2] yyy")
    assert fallback.endswith("\nSources: [1] Refunds &amp; credits; [2] Setup guide")


async def test_the_card_and_the_answer_are_one_message_and_an_update_keeps_the_answer(
    fake_slack: FakeSlack,
) -> None:
    outlet = await _outlet(fake_slack)
    card = TicketCard(ticket_id=9, status=TicketStatus.OPEN, summary="Export question")
    answer = "Use Settings > Export."

    ts = await outlet.post_reply(PostReply(place=PLACE, text=answer, card=card))
    claimed = card.model_copy(update={"status": TicketStatus.CLAIMED, "assignee_id": "U_LEAD"})
    ref = CardRef(place=PLACE, message_id=ts, text=answer)
    await outlet.update_card(UpdateCard(ref=ref, card=claimed))

    (post,) = fake_slack.calls_to("chat.postMessage")
    (update,) = fake_slack.calls_to("chat.update")
    for call, status in ((post, "open"), (update, "claimed")):
        assert call.blocks[0]["text"]["text"] == f"Ticket #9 · {status}"
        sections = [
            b["text"]["text"] for b in call.blocks if b["type"] == "section" and "text" in b
        ]
        assert sections[-1] == "Use Settings &gt; Export."
    assert update.params["ts"] == ts


# --- the workspace's taxonomy and teams on a card ----------------------------------------


def _card_with_choices(**values: Any) -> TicketCard:
    return TicketCard(
        ticket_id=12,
        status=TicketStatus.ESCALATED,
        category="crash",
        urgency="P1 - critical",
        actions=(TicketAction.CLAIM, TicketAction.RECLASSIFY),
        category_choices=(("crash", "crash"), ("matchmaking", "matchmaking")),
        urgency_choices=(("high", "P1 - critical"), ("medium", "P2"), ("low", "P3")),
        **values,
    )


def _select_options(blocks: list[Any], action_id: str) -> list[tuple[str, str]]:
    actions = next(b for b in blocks if b["type"] == "actions")["elements"]
    chosen = next(e for e in actions if e["action_id"] == action_id)
    return [(o["text"]["text"], o["value"]) for o in chosen["options"]]


def test_the_reclassify_selects_offer_the_cards_choices_naming_what_they_set() -> None:
    blocks = [b.to_dict() for b in card_blocks(_card_with_choices())]
    assert _select_options(blocks, "ticket:reclassify-category") == [
        ("crash", "12:category=crash"),
        ("matchmaking", "12:category=matchmaking"),
    ]
    assert _select_options(blocks, "ticket:reclassify-urgency") == [
        ("P1 - critical", "12:urgency=high"),
        ("P2", "12:urgency=medium"),
        ("P3", "12:urgency=low"),
    ]
    assert _texts(card_blocks(_card_with_choices()))[1:3] == [
        "*Category*\ncrash",
        "*Urgency*\nP1 - critical",
    ]


def test_a_card_without_choices_offers_no_select_and_many_are_cut_to_slacks_100() -> None:
    bare_card = TicketCard(
        ticket_id=1, status=TicketStatus.OPEN, actions=(TicketAction.RECLASSIFY,)
    )
    bare = [b.to_dict() for b in card_blocks(bare_card)]
    assert not any(b["type"] == "actions" for b in bare)
    many = tuple((f"c{n}", f"category {n}") for n in range(150))
    card = _card_with_choices().model_copy(update={"category_choices": many})
    blocks = [b.to_dict() for b in card_blocks(card)]  # to_dict() validates the limits
    assert len(_select_options(blocks, "ticket:reclassify-category")) == 100


def test_the_team_and_the_suggested_lead_are_shown_escaped_until_someone_claims() -> None:
    card = _card_with_choices(team="bugs", suggested_assignee_id="U_CY><!here")
    fields = _texts(card_blocks(card))[1:5]
    assert fields[2:] == ["*Team*\nbugs", "*Suggested*\n<@U_CY&gt;&lt;!here>"]
    claimed = card.model_copy(update={"assignee_id": "U_DEE"})
    fields = _texts(card_blocks(claimed))[1:5]
    assert fields[2:] == ["*Team*\nbugs", "*Assignee*\n<@U_DEE>"]
