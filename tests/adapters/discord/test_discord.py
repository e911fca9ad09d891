"""The real discord.py client against the fake gateway and REST API."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import select

from adapters.discord.adapter import DiscordStartError
from bot.store.db import Database
from bot.store.models import AuditEntry, InboxItem, Message, Ticket
from tests.adapters.discord.harness import (
    ALICE,
    BOT,
    CHANNEL,
    LEAD_ROLE,
    LEADS,
    LEE,
    DiscordStack,
    discord_stack,
)
from tests.bot.harness import ANSWER, responder, triage_json, triage_requests
from tests.cli_runner import clean_env, run_cli
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_payloads import (
    component_interaction,
    message_create,
    message_delete,
    message_update,
    slash_command_interaction,
)

ROOT = 910000000000000001
ESCALATE = triage_json(
    category="billing", urgency="high", needs_human=True, summary="Charged twice"
)


def _mention(text: str, message_id: int = ROOT, **kwargs: object) -> dict:
    return message_create(f"<@{BOT}> {text}", message_id=message_id, mentions=[BOT], **kwargs)


async def _tickets(db: Database) -> list[Ticket]:
    async with db.sessions() as session:
        return list((await session.scalars(select(Ticket))).all())


async def _open(stack: DiscordStack, text: str = "I was charged twice") -> Ticket:
    await stack.fake.dispatch("MESSAGE_CREATE", _mention(text))
    assert await stack.settle(f"message:{ROOT}") == "done"
    (ticket,) = await _tickets(stack.app.database)
    return ticket


def _posts(fake: FakeDiscord, channel: int) -> list:
    return fake.calls_to("POST", rf"/channels/{channel}/messages")


async def test_a_mention_opens_a_thread_with_one_message_the_ticket_embed_and_the_answer(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        ticket = await _open(stack, "how do I export to CSV?")
    assert (ticket.channel_id, ticket.thread_id) == (str(CHANNEL), str(ROOT))
    assert fake_discord.calls_to("POST", rf"/channels/{CHANNEL}/messages/{ROOT}/threads")
    assert ROOT in fake_discord.threads
    assert len(triage_requests(fake_deepseek)) == 1
    # One message inside the thread: the ticket's embed and the answer together.
    (post,) = _posts(fake_discord, ROOT)
    assert post.json["embeds"][0]["title"] == f"Ticket #{ticket.id} · open"
    assert post.json["content"] == ANSWER
    assert post.json["allowed_mentions"] == {"parse": []}
    # Idempotent sends: Discord drops a repeat with the same nonce.
    assert post.json["enforce_nonce"] is True
    assert post.json["nonce"]


async def test_the_same_message_twice_and_after_a_resume_is_one_ticket(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        await stack.fake.dispatch("MESSAGE_CREATE", _mention("duplicate?"))
        await stack.fake.dispatch("MESSAGE_CREATE", _mention("duplicate?"))
        await stack.fake.request_reconnect()
        await stack.fake.dispatch("MESSAGE_CREATE", _mention("duplicate?"), wait=False)
        await stack.fake.wait_resumed()
        assert await stack.settle(f"message:{ROOT}") == "done"
        await asyncio.sleep(0.3)
    assert fake_discord.resumes == 1
    assert fake_discord.identifies == 1
    assert len(await _tickets(db)) == 1
    assert len(triage_requests(fake_deepseek)) == 1
    assert len(_posts(fake_discord, ROOT)) == 1  # the card with the answer


async def _slash(
    stack: DiscordStack,
    subcommand: str,
    *,
    user: int = ALICE,
    roles: tuple[int, ...] = (),
    channel: int = CHANNEL,
    **kwargs: object,
) -> tuple[dict, list[dict]]:
    data = slash_command_interaction(
        subcommand, user_id=user, roles=roles, channel_id=channel, **kwargs
    )
    await stack.fake.dispatch("INTERACTION_CREATE", data)
    assert await stack.settle_interaction(int(data["id"])) == "done"
    callbacks = [c for c in stack.fake.interaction_callbacks if c["interaction_id"] == data["id"]]
    followups = [f for f in stack.fake.followups if f["token"] == data["token"]]
    return callbacks[0], followups


async def test_summary_is_deferred_then_followed_up_and_escalations_refuse_non_leads(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(ESCALATE)
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        ticket = await _open(stack)
        callback, followups = await _slash(stack, "summary")
        refused_cb, refused = await _slash(stack, "escalations")
        _, allowed = await _slash(stack, "escalations", user=LEE, roles=(LEAD_ROLE,))
    assert callback["type"] == 5  # deferred inside the 3 seconds
    assert callback["data"]["flags"] == 64
    assert "Open tickets in this channel" in followups[0]["content"]
    assert f"#{ticket.id}" in followups[0]["content"]
    assert refused_cb["type"] == 5
    assert "Only support leads" in refused[0]["content"]
    assert "Open escalations (1)" in allowed[0]["content"]


async def _press(
    stack: DiscordStack,
    custom_id: str,
    *,
    user: int,
    roles: tuple[int, ...] = (),
    message_id: int,
    values: list[str] | None = None,
) -> dict:
    data = component_interaction(
        custom_id,
        user_id=user,
        roles=roles,
        channel_id=LEADS,
        message_id=message_id,
        values=values,
        component_type=3 if values else 2,
    )
    await stack.fake.dispatch("INTERACTION_CREATE", data)
    return data


async def test_claim_refused_for_non_leads_and_works_for_leads_even_after_a_restart(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(ESCALATE)
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        ticket = await _open(stack)
        (leads_card,) = _posts(fake_discord, LEADS)
        card_id = next(iter(fake_discord.messages[LEADS]))
        assert leads_card.json["content"].startswith(f"<@&{LEAD_ROLE}>")
        assert [int(r) for r in leads_card.json["allowed_mentions"]["roles"]] == [LEAD_ROLE]
        assert leads_card.json["allowed_mentions"]["parse"] == []
        custom_ids = [
            c["custom_id"] for row in leads_card.json["components"] for c in row["components"]
        ]
        assert f"ticket:claim:{ticket.id}" in custom_ids
        press = await _press(stack, f"ticket:claim:{ticket.id}", user=ALICE, message_id=card_id)
        assert await stack.settle_interaction(int(press["id"])) == "done"
    async with db.sessions() as session:
        assert (await session.get_one(Ticket, ticket.id)).status == "escalated"
        refused = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "action.refused"))
        ).one()
    assert refused.actor == f"discord:{ALICE}"

    # A new process: the old card's button still works.
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        press = await _press(
            stack, f"ticket:claim:{ticket.id}", user=LEE, roles=(LEAD_ROLE,), message_id=card_id
        )
        assert await stack.settle_interaction(int(press["id"])) == "done"
    async with db.sessions() as session:
        claimed = await session.get_one(Ticket, ticket.id)
        audit = (await session.scalars(select(AuditEntry.action))).all()
    assert (claimed.status, claimed.assignee_id) == ("claimed", str(LEE))
    assert "ticket.claimed" in audit
    edits = fake_discord.calls_to("PATCH", r"/channels/\d+/messages/\d+")
    assert len(edits) == 2  # the thread card and the leads' card
    assert all("claimed" in e.json["embeds"][0]["title"] for e in edits)


async def test_a_429_on_create_message_is_retried_and_the_reply_arrives_once(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    fake_discord.rate_limit("POST", rf"/channels/{ROOT}/messages", times=1, retry_after=0.5)
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        await _open(stack)
    posts = _posts(fake_discord, ROOT)
    assert len(posts) == 2  # the 429, then its retry: the card with the answer
    assert posts[1].at - posts[0].at >= 0.5
    assert [p.json.get("content") for p in posts[1:]].count(ANSWER) == 1


async def test_model_text_with_everyone_pings_nobody(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(answer="@everyone @here <@5002> look " + "z" * 2500)
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        await _open(stack)
    texts = [p for p in _posts(fake_discord, ROOT) if p.json.get("content")]
    assert len(texts) == 2  # 2500+ characters split at Discord's 2000
    assert all(len(p.json["content"]) <= 2000 for p in texts)
    assert all(p.json["allowed_mentions"] == {"parse": []} for p in texts)


async def test_odd_input_gets_a_clear_answer_or_a_skip_never_a_crash(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        # No content (no message-content intent for a non-mention): skipped.
        await stack.fake.dispatch(
            "MESSAGE_CREATE", message_create("", message_id=ROOT + 5, channel_id=CHANNEL)
        )
        # A button we never made.
        unknown = component_interaction(
            "mystery:42", message_id=ROOT + 6, user_id=LEE, roles=[LEAD_ROLE]
        )
        await stack.fake.dispatch("INTERACTION_CREATE", unknown)
        # A button for a ticket that does not exist.
        gone = await _press(
            stack, "ticket:resolve:999", user=LEE, roles=(LEAD_ROLE,), message_id=ROOT + 7
        )
        assert await stack.settle_interaction(int(gone["id"])) == "done"
        # The bot still works afterwards.
        ticket = await _open(stack)
        await stack.fake.dispatch("MESSAGE_DELETE", message_delete(ROOT, CHANNEL))
        assert await stack.settle(f"delete:{ROOT}") == "done"
    unknown_answer = [
        c for c in fake_discord.interaction_callbacks if c["interaction_id"] == unknown["id"]
    ]
    assert unknown_answer[0]["type"] == 4
    assert unknown_answer[0]["data"]["flags"] == 64
    gone_answer = [f for f in fake_discord.followups if f["token"] == gone["token"]]
    assert "no longer exists" in gone_answer[0]["content"]
    async with db.sessions() as session:
        root = (await session.scalars(select(Message).where(Message.message_id == str(ROOT)))).one()
    assert ticket.id == 1
    assert root.text is None  # deleted on Discord, erased here
    assert json.dumps(fake_discord.followups).count("Traceback") == 0


async def test_commands_are_synced_to_the_guild(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    async with discord_stack(db, fake_discord, fake_deepseek):
        pass
    (guild_id, commands), *_ = fake_discord.command_syncs
    assert guild_id == 2000
    support = next(c for c in commands if c["name"] == "support")
    names = {o["name"] for o in support["options"]}
    assert names == {
        "summary",
        "escalations",
        "costs",
        "csat",
        "ticket",
        "forget-me",
        "dashboard",
        "help",
    }


async def test_a_refused_message_content_intent_is_one_clear_error(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    async with FakeDiscord(refuse_privileged_intents=True) as fake:
        try:
            async with discord_stack(db, fake, fake_deepseek):
                raise AssertionError("the adapter should not have started")
        except DiscordStartError as exc:
            message = str(exc)
    assert "Message Content intent" in message
    assert "Privileged Gateway Intents" in message


async def test_doctor_logs_in_and_prints_the_invite_url(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    env = clean_env(DISCORD_BOT_TOKEN=fake_discord.token, DISCORD_API_URL=fake_discord.api_base)
    outcome = await run_cli("doctor", cwd=tmp_path, env=env)
    assert "ok   discord: logged in as supportbot" in outcome.stdout
    assert (
        "https://discord.com/oauth2/authorize?client_id=1000&scope=bot+applications.commands"
        "&permissions=309237730304"
    ) in outcome.stdout
    assert fake_discord.token not in outcome.stdout + outcome.stderr


async def test_thread_replies_are_stored_and_their_edits_and_deletes_followed(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    reply_id = ROOT + 10
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        await _open(stack)
        posts_before = len(_posts(fake_discord, ROOT))
        # A plain reply inside the ticket's thread (the thread's id is its channel id).
        await stack.fake.dispatch(
            "MESSAGE_CREATE", message_create("it drops the é", message_id=reply_id, channel_id=ROOT)
        )
        assert await stack.settle(f"message:{reply_id}") == "done"
        await stack.fake.dispatch(
            "MESSAGE_UPDATE", message_update(reply_id, ROOT, "it drops the é and ñ")
        )
        await stack.fake.dispatch("MESSAGE_DELETE", message_delete(ROOT, CHANNEL))
        assert await stack.settle(f"delete:{ROOT}") == "done"
        await asyncio.sleep(0.3)
    async with db.sessions() as session:
        rows = await session.execute(
            select(Message.message_id, Message.text).where(~Message.is_bot)
        )
        texts = {message_id: text for message_id, text in rows.all()}
    assert texts == {str(ROOT): None, str(reply_id): "it drops the é and ñ"}
    assert len(_posts(fake_discord, ROOT)) == posts_before  # a plain reply gets no answer


async def test_a_mention_of_the_bots_managed_role_opens_a_ticket_like_a_user_mention(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    """`<@&ROLE>` of the role Discord made for the bot: what the mention picker often offers."""
    fake_deepseek.responder = responder()
    role = fake_discord.bot_role_id
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        await stack.fake.dispatch(
            "MESSAGE_CREATE",
            message_create(
                f"<@&{role}> how do I export to CSV?", message_id=ROOT, mention_roles=[role]
            ),
        )
        assert await stack.settle(f"message:{ROOT}") == "done"
    (ticket,) = await _tickets(db)
    assert (ticket.channel_id, ticket.thread_id) == (str(CHANNEL), str(ROOT))
    async with db.sessions() as session:
        stored = (await session.scalars(select(Message).where(~Message.is_bot))).one()
    assert stored.text == "how do I export to CSV?"  # stripped like <@BOT>
    (post,) = _posts(fake_discord, ROOT)
    assert post.json["content"] == ANSWER


async def _inbox_places(db: Database, kind: str) -> list[dict]:
    async with db.sessions() as session:
        rows = await session.scalars(
            select(InboxItem.payload).where(InboxItem.kind == kind).order_by(InboxItem.id)
        )
        return [payload["place"] for payload in rows.all()]


async def test_edits_and_deletes_in_a_ticket_thread_carry_its_channel_and_thread(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    """The same place the reply itself was posted with: the parent channel and the thread."""
    fake_deepseek.responder = responder()
    reply_id = ROOT + 20
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        await _open(stack)
        await stack.fake.dispatch(
            "MESSAGE_CREATE", message_create("it fails", message_id=reply_id, channel_id=ROOT)
        )
        assert await stack.settle(f"message:{reply_id}") == "done"
        await stack.fake.dispatch(
            "MESSAGE_UPDATE", message_update(reply_id, ROOT, "it fails at 80%")
        )
        await stack.fake.dispatch("MESSAGE_DELETE", message_delete(reply_id, ROOT))
        assert await stack.settle(f"delete:{reply_id}") == "done"
    in_thread = {
        "platform": "discord",
        "workspace_id": "2000",
        "channel_id": str(CHANNEL),
        "thread_id": str(ROOT),
    }
    assert await _inbox_places(db, "message_posted") == [
        {**in_thread, "thread_id": None},  # the mention that opened the ticket
        in_thread,
    ]
    assert await _inbox_places(db, "message_edited") == [in_thread]
    assert await _inbox_places(db, "message_deleted") == [in_thread]
