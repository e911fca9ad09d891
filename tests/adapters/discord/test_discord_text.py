"""What the bot's Discord messages look like: model and user text can neither form masked
links nor mentions, URLs in it do not unfurl, and every cut is on a character boundary
and marked. The real adapter against the fake Discord."""

from __future__ import annotations

import re

from adapters.discord.text import no_unfurl
from bot.events import Notify, Place, Platform, TicketCard, TicketStatus
from bot.store.db import Database
from tests.adapters.discord.harness import GUILD, LEAD_ROLE, LEADS, discord_stack
from tests.adapters.discord.test_discord import ROOT, _open, _posts, _slash
from tests.bot.harness import responder, triage_json
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.discord import FakeDiscord

SUPPRESS_EMBEDS = 1 << 2
MASKED_LINK = re.compile(r"\[[^\]]*\]\(")
MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|@(?:everyone|here)")
BARE_URL = re.compile(r"(?<!<)https?://")
EVIL = (
    "[Reset your password](https://evil.example/login) @everyone @here "
    "<@5002> <@!5002> <@&400> <#301>"
)
LEADS_PLACE = Place(platform=Platform.DISCORD, workspace_id=str(GUILD), channel_id=str(LEADS))


def visible(text: str) -> str:
    """The text as a reader sees it: escapes and zero-width spaces do not show."""
    return text.replace("\\", "").replace("\u200b", "")


def neutral(text: str) -> bool:
    return not MASKED_LINK.search(text) and not MENTION.search(text)


async def test_model_and_user_text_cannot_form_masked_links_or_mentions_nor_unfurl(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    answer = f"{EVIL} more at https://docs.acme.example/export"
    summary = "Wants [the refund](https://evil.example/r) for <@5002> @here"
    fake_deepseek.responder = responder(triage_json(summary=summary), answer=answer)
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        ticket = await _open(stack)
        _, followups = await _slash(stack, "summary")
    (card,) = _posts(fake_discord, ROOT)  # the card's embed and the answer, one message
    content = card.json["content"]
    assert neutral(content)
    # Nothing lost, only neutralised; the model's URLs get no preview (in <...>, as the
    # message's own embed must show).
    assert visible(content) == no_unfurl(answer)
    assert not card.json.get("flags", 0) & SUPPRESS_EMBEDS
    description = card.json["embeds"][0]["description"]
    assert neutral(description)
    assert visible(description) == summary
    # The card is an embed itself: suppressing embeds on it would hide it.
    assert not card.json.get("flags", 0) & SUPPRESS_EMBEDS
    cards = [m for m in fake_discord.messages[ROOT].values() if m["embeds"]]
    assert [c["embeds"][0]["description"] for c in cards] == [description]
    name = fake_discord.threads[ROOT]["name"]
    assert neutral(name)
    assert visible(name) == f"Ticket #{ticket.id}: {summary}"
    (listing,) = followups
    assert "Wants" in listing["content"]
    assert neutral(listing["content"])
    assert listing["flags"] & SUPPRESS_EMBEDS


async def test_a_thread_name_is_cut_before_an_emoji_it_cannot_hold_and_marked(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    family = (
        "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # one emoji, 7 code points
    )
    summary = "@everyone " + "a" * 75 + family + " and more words after the cut"
    fake_deepseek.responder = responder(triage_json(summary=summary))
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        ticket = await _open(stack)
    name = fake_discord.threads[ROOT]["name"]
    assert len(name) <= 100
    assert neutral(name)
    # The emoji would not fit whole: it goes, and the cut is marked.
    assert visible(name) == f"Ticket #{ticket.id}: @everyone {'a' * 75}…"


async def test_a_long_leads_notice_keeps_its_pings_and_is_cut_with_a_mark(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    brief = "Brief for ticket #3:\n" + "the customer was charged twice " * 100
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        await stack.adapter.outlet.deliver(Notify(place=LEADS_PLACE, text=brief, ping_leads=True))
    (notice,) = _posts(fake_discord, LEADS)
    content = notice.json["content"]
    assert len(content) <= 2000
    assert content.startswith(f"<@&{LEAD_ROLE}> Brief for ticket #3:")
    assert content.endswith("…")
    assert notice.json["flags"] & SUPPRESS_EMBEDS


async def test_a_leads_notice_with_a_card_keeps_the_card_and_its_urls_do_not_unfurl(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    text = f"Escalated ticket #3 (high billing): {EVIL} see https://evil.example/unfurl."
    card = TicketCard(ticket_id=3, status=TicketStatus.ESCALATED, summary="Charged twice")
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        await stack.adapter.outlet.deliver(
            Notify(place=LEADS_PLACE, text=text, ping_leads=True, card=card)
        )
    (notice,) = _posts(fake_discord, LEADS)
    content = notice.json["content"]
    pings, _, rest = content.partition(" ")
    assert pings == f"<@&{LEAD_ROLE}>"  # the bot's own ping stays a mention
    assert neutral(rest)
    assert not BARE_URL.search(content)  # <https://...> does not unfurl
    assert "<https://evil.example/unfurl>." in content
    assert visible(rest).startswith("Escalated ticket #3 (high billing): [Reset your password](")
    stored = fake_discord.messages[LEADS]
    assert [m["embeds"][0]["title"] for m in stored.values()] == ["Ticket #3 · escalated"]
