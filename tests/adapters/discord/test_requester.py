"""The asker's side on Discord: 👀 while the answer is written, Solved / I need a person
under the answer, the rating; the real discord.py client against the fake gateway."""

from __future__ import annotations

import time

from sqlalchemy import select

from bot.store.db import Database
from bot.store.models import Ticket
from tests.adapters.discord.harness import (
    ALICE,
    BOT,
    CHANNEL,
    LEAD_ROLE,
    LEE,
    DiscordStack,
    discord_stack,
)
from tests.bot.harness import ANSWER, responder
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_payloads import component_interaction, message_create

ROOT = 910000000000000077
EYES = "\N{EYES}"
MALLORY = 5099


async def _ticket(stack: DiscordStack) -> Ticket:
    async with stack.app.database.sessions() as session:
        return (await session.scalars(select(Ticket))).one()


def _custom_ids(post: dict) -> list[str]:
    return [c["custom_id"] for row in post.get("components", []) for c in row["components"]]


async def _press(
    stack: DiscordStack, custom_id: str, *, user: int, roles: tuple[int, ...] = ()
) -> dict:
    data = component_interaction(
        custom_id, user_id=user, roles=roles, channel_id=ROOT, message_id=ROOT + 1
    )
    await stack.fake.dispatch("INTERACTION_CREATE", data)
    assert await stack.settle_interaction(int(data["id"])) == "done"
    return data


async def _open(stack: DiscordStack) -> Ticket:
    mention = message_create(f"<@{BOT}> how do I export?", message_id=ROOT, mentions=[BOT])
    await stack.fake.dispatch("MESSAGE_CREATE", mention)
    assert await stack.settle(f"message:{ROOT}") == "done"
    return await _ticket(stack)


async def test_the_mention_gets_eyes_within_a_second_and_loses_them_with_the_answer(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    fake_deepseek.responder_delay = 2.0
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        mention = message_create(f"<@{BOT}> how do I export?", message_id=ROOT, mentions=[BOT])
        sent = time.monotonic()
        await stack.fake.dispatch("MESSAGE_CREATE", mention)
        await fake_discord.wait_until(lambda: bool(fake_discord.reactions.get(ROOT)), timeout=1.5)
        (added,) = fake_discord.calls_to(
            "PUT", rf"/channels/{CHANNEL}/messages/{ROOT}/reactions/.+"
        )
        assert added.at - sent < 1.0
        assert fake_discord.reactions[ROOT] == [EYES]
        assert not fake_discord.calls_to("POST", rf"/channels/{ROOT}/messages")  # still writing
        assert await stack.settle(f"message:{ROOT}") == "done"
    (answer,) = fake_discord.calls_to("POST", rf"/channels/{ROOT}/messages")
    (removed,) = fake_discord.calls_to(
        "DELETE", rf"/channels/{CHANNEL}/messages/{ROOT}/reactions/.+"
    )
    assert removed.at >= answer.at
    assert fake_discord.reactions[ROOT] == []


async def test_solved_by_the_asker_then_a_rating_and_others_are_refused_privately(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        ticket = await _open(stack)
        (answer,) = fake_discord.calls_to("POST", rf"/channels/{ROOT}/messages")
        assert answer.json["content"] == ANSWER
        ids = _custom_ids(answer.json)
        assert f"ticket:solved:{ticket.id}" in ids
        assert f"ticket:need-person:{ticket.id}" in ids
        assert f"ticket:claim:{ticket.id}" in ids  # the leads' buttons, on rows above
        refused = await _press(stack, f"ticket:solved:{ticket.id}", user=MALLORY)
        assert (await _ticket(stack)).status == "open"
        await _press(stack, f"ticket:solved:{ticket.id}", user=ALICE)
        ask = fake_discord.calls_to("POST", rf"/channels/{ROOT}/messages")[-1]
        assert _custom_ids(ask.json) == [
            f"ticket:rate-good:{ticket.id}",
            f"ticket:rate-bad:{ticket.id}",
        ]
        await _press(stack, f"ticket:rate-bad:{ticket.id}", user=ALICE)
        ticket = await _ticket(stack)
    assert (ticket.status, ticket.satisfaction) == ("resolved", "bad")
    (note,) = [f for f in fake_discord.followups if f["token"] == refused["token"]]
    assert "Only the person who asked" in note["content"]
    assert note["flags"] & 64  # ephemeral


async def test_a_lead_asks_for_a_person_and_the_lead_role_is_pinged(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        ticket = await _open(stack)
        await _press(stack, f"ticket:need-person:{ticket.id}", user=LEE, roles=(LEAD_ROLE,))
        ticket = await _ticket(stack)
    assert ticket.status == "escalated"
    (notice,) = fake_discord.calls_to("POST", r"/channels/301/messages")
    assert notice.json["content"].startswith(f"<@&{LEAD_ROLE}>")
    assert "asked for a person" in notice.json["content"]
