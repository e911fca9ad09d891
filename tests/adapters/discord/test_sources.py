"""An answer's cited pages: a "Sources" list of masked links, the only masked links the
bot writes, and no previews. Rendering alone, then through the outlet to the fake."""

from __future__ import annotations

import re

import pytest

from adapters.discord.render import reply_content, source_line, split_content
from bot.events import Place, Platform, PostReply, SourceLink
from bot.store.db import Database
from tests.adapters.discord.harness import CHANNEL, GUILD, discord_stack
from tests.adapters.discord.test_discord_text import EVIL, MENTION, SUPPRESS_EMBEDS, visible
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.discord import FakeDiscord

# A masked link as Discord's markdown finds one: text without an unescaped "]", then "(".
LINK = re.compile(r"(?<!\\)\[((?:\\.|[^\\\]])*)\]\((<[^>]*>|[^)\s]*)\)")
FAQ = SourceLink(
    number=1,
    title="Billing FAQ",
    location="billing/faq.md",
    url="https://docs.acme.example/billing/faq",
)
SETUP = SourceLink(number=3, title="Setting up SSO", location="guides/sso_setup.md")
PLACE = Place(platform=Platform.DISCORD, workspace_id=str(GUILD), channel_id=str(CHANNEL))


def links(text: str) -> list[tuple[str, str]]:
    return [(m[1], m[2]) for m in LINK.finditer(text)]


def shown(text: str) -> str:
    """Markdown text as Discord shows it: each escape shows the character it escapes."""
    return re.sub(r"\\(.)", r"\1", text).replace("\u200b", "")


def test_an_answer_ends_with_its_sources_as_masked_links_or_plain_lines() -> None:
    (content,) = reply_content("Refunds take 5 days [1]. See also [3].", (FAQ, SETUP))
    assert content == (
        "Refunds take 5 days [1]. See also [3].\n\n**Sources**\n"
        "[1] [Billing FAQ](<https://docs.acme.example/billing/faq>)\n"
        "[3] Setting up SSO — guides/sso\\_setup.md"
    )
    assert links(content) == [("Billing FAQ", "<https://docs.acme.example/billing/faq>")]


@pytest.mark.parametrize(
    "title",
    [
        "x](https://evil.example) [y",
        "x](<https://evil.example>)",
        "a\\](https://evil.example)",
        "Line one\n\n[Reset](https://evil.example)",
        "**bold** _it_ ~~gone~~ `code` ||spoiler|| [v2]",
    ],
)
def test_a_title_shows_literally_and_cannot_leave_its_link(title: str) -> None:
    source = FAQ.model_copy(update={"title": title})
    line = source_line(source)
    ((text, target),) = links(line)  # one link, to the page, whatever the title holds
    assert target == "<https://docs.acme.example/billing/faq>"
    assert shown(text) == " ".join(title.split())
    assert "\n" not in line


def test_a_title_with_mentions_pings_nobody_and_shows_the_same() -> None:
    line = source_line(FAQ.model_copy(update={"title": "@everyone <@5002> <@&400>"}))
    assert not MENTION.search(line)
    assert visible(links(line)[0][0]) == "@everyone <@5002> <@&400>"


@pytest.mark.parametrize(
    "url", ["http://docs.acme.example/faq", "javascript:alert(1)", "https://x.example/a b"]
)
def test_a_source_without_a_safe_https_url_is_a_plain_line(url: str) -> None:
    line = source_line(SETUP.model_copy(update={"url": url, "title": "[SSO](x) *setup*"}))
    assert links(line) == []
    assert visible(line) == "[3] [SSO](x) *setup* — guides/sso_setup.md"


def test_model_text_forms_no_masked_link_even_beside_real_sources() -> None:
    fake = "Log in at [your billing page](https://evil.example/login) [1]"
    (content,) = reply_content(fake, (FAQ,))
    assert links(content) == [("Billing FAQ", "<https://docs.acme.example/billing/faq>")]
    assert visible(content).startswith(fake)


def test_a_long_answer_keeps_its_sources_whole_in_the_last_piece() -> None:
    text = "word " * 700  # 3500 characters: two pieces
    pieces = reply_content(text, (FAQ, SETUP))
    assert len(pieces) == 2
    assert pieces[:1] == split_content(text)[:1]
    assert pieces[1].endswith("**Sources**\n" + "\n".join(map(source_line, (FAQ, SETUP))))
    assert all(len(p) <= 2000 for p in pieces)


def test_sources_that_no_longer_fit_after_the_text_get_their_own_piece() -> None:
    text = "x" * 1990
    pieces = reply_content(text, (FAQ,))
    assert pieces == [text, "**Sources**\n" + source_line(FAQ)]


async def test_a_reply_with_sources_is_sent_with_embeds_suppressed(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    reply = PostReply(place=PLACE, text=f"{EVIL} [1]", sources=(FAQ, SETUP), key="r1")
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        await stack.adapter.outlet.deliver(reply)
    (post,) = fake_discord.calls_to("POST", rf"/channels/{CHANNEL}/messages")
    content = post.json["content"]
    assert post.json["flags"] & SUPPRESS_EMBEDS  # no preview of the pages or the model's URLs
    assert post.json["allowed_mentions"] == {"parse": []}
    assert links(content) == [("Billing FAQ", "<https://docs.acme.example/billing/faq>")]
    assert "[3] Setting up SSO — guides/sso\\_setup.md" in content
    (stored,) = fake_discord.messages[CHANNEL].values()
    assert stored["embeds"] == []
    assert stored["flags"] & SUPPRESS_EMBEDS
