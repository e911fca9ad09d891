"""The fake Discord, driven by the real discord.py client (REST, gateway, interactions)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord import app_commands

from tests.fakes import discord_payloads as dp
from tests.fakes.discord import FakeDiscord, point_discord_py_at

INTENTS = discord.Intents(guilds=True, guild_messages=True, message_content=True)
BOT, GUILD, CHANNEL, LEADS, LEAD_ROLE, ALICE = 1001, 2000, 300, 301, 400, 5001


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as running:
        with point_discord_py_at(running):
            yield running


@contextlib.asynccontextmanager
async def connected(
    fake: FakeDiscord, client: discord.Client | None = None
) -> AsyncIterator[discord.Client]:
    """`client` (a plain Client by default) logged in, READY, closed on exit."""
    client = client or discord.Client(intents=INTENTS)
    task = asyncio.create_task(client.start(fake.token))
    try:
        await fake.wait_ready()
        yield client
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError, discord.DiscordException):
            await asyncio.wait_for(task, 5)


def collect(client: discord.Client, event: str) -> asyncio.Queue[Any]:
    """A queue that receives the first argument of every `event` the client dispatches."""
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def listener(*args: Any) -> None:
        await queue.put(args[0] if args else None)

    # Client.dispatch calls the attribute ``on_<event>`` (plain Client has no add_listener)
    setattr(client, f"on_{event}", listener)
    return queue


# --- login, READY, GUILD_CREATE ---------------------------------------------------------


async def test_login_ready_and_guild_create(fake: FakeDiscord) -> None:
    async with connected(fake) as client:
        assert client.user is not None
        assert client.user.id == BOT
        assert client.application_id == 1000
        guild = client.get_guild(GUILD)
        assert guild is not None
        assert isinstance(guild.get_channel(CHANNEL), discord.TextChannel)
        assert guild.get_channel(LEADS).name == "support-leads"
        lead = guild.get_role(LEAD_ROLE)
        assert lead is not None
        assert lead.mentionable
        assert guild.default_role.id == GUILD
        assert guild.me is not None
        assert guild.me.guild_permissions.create_public_threads
    assert fake.identifies == 1
    assert fake.last_intents == INTENTS.value
    me = fake.calls_to("GET", "/users/@me")[0]
    assert me.headers["Authorization"] == f"Bot {fake.token}"
    assert fake.calls_to("GET", "/oauth2/applications/@me")


async def test_a_bad_token_is_a_login_failure(fake: FakeDiscord) -> None:
    client = discord.Client(intents=INTENTS)
    try:
        with pytest.raises(discord.LoginFailure):
            await client.start("not-the-token")
    finally:
        await client.close()
    assert fake.calls_to("GET", "/users/@me")


async def test_refused_privileged_intents_raise(fake: FakeDiscord) -> None:
    fake.refuse_privileged_intents = True
    client = discord.Client(intents=INTENTS)
    try:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(client.start(fake.token), 10)
    finally:
        await client.close()
    assert fake.identifies == 1
    assert fake.last_intents is not None
    assert fake.last_intents & (1 << 15)


async def test_auto_sharded_client_uses_gateway_bot(fake: FakeDiscord) -> None:
    async with connected(fake, discord.AutoShardedClient(intents=INTENTS)) as client:
        assert client.shard_count == 1
        assert client.get_guild(GUILD) is not None
        assert client.get_guild(GUILD).shard_id == 0
    assert fake.calls_to("GET", "/gateway/bot")
    identify = next(f for f in fake.gateway_frames if f["op"] == 2)
    assert identify["d"]["shard"] == [0, 1]


# --- receiving -----------------------------------------------------------------------------


async def test_message_create_reaches_on_message(fake: FakeDiscord) -> None:
    async with connected(fake) as client:
        messages = collect(client, "message")
        mid = fake.next_id()
        seq = await fake.dispatch(
            "MESSAGE_CREATE", dp.message_create("<@1001> help", message_id=mid, mentions=[BOT])
        )
        assert seq > 2  # READY and GUILD_CREATE came first
        message = await asyncio.wait_for(messages.get(), 5)
        assert message.id == mid
        assert message.content == "<@1001> help"
        assert client.user in message.mentions
        assert isinstance(message.channel, discord.TextChannel)
        assert isinstance(message.author, discord.Member)
        assert message.author.name == "alice"


async def test_without_message_content_intent_content_is_empty_unless_mentioned(
    fake: FakeDiscord,
) -> None:
    intents = discord.Intents(guilds=True, guild_messages=True)
    async with connected(fake, discord.Client(intents=intents)) as client:
        messages = collect(client, "message")
        await fake.dispatch(
            "MESSAGE_CREATE", dp.message_create("secret", message_id=fake.next_id())
        )
        await fake.dispatch(
            "MESSAGE_CREATE",
            dp.message_create("<@1001> visible", message_id=fake.next_id(), mentions=[BOT]),
        )
        assert (await asyncio.wait_for(messages.get(), 5)).content == ""
        assert (await asyncio.wait_for(messages.get(), 5)).content == "<@1001> visible"


async def test_events_the_intents_exclude_are_dropped(fake: FakeDiscord) -> None:
    async with connected(fake, discord.Client(intents=discord.Intents(guilds=True))):
        seq = await fake.dispatch(
            "MESSAGE_CREATE", dp.message_create("hi", message_id=fake.next_id())
        )
    assert seq == 0
    assert fake.dropped_events[0][0] == "MESSAGE_CREATE"


async def test_edits_and_deletes_reach_the_raw_handlers(fake: FakeDiscord) -> None:
    async with connected(fake) as client:
        edits, deletes = collect(client, "raw_message_edit"), collect(client, "raw_message_delete")
        mid = fake.next_id()
        await fake.dispatch("MESSAGE_CREATE", dp.message_create("typo", message_id=mid))
        await fake.dispatch("MESSAGE_UPDATE", dp.message_update(mid, CHANNEL, "fixed"))
        await fake.dispatch("MESSAGE_DELETE", dp.message_delete(mid, CHANNEL))
        edit = await asyncio.wait_for(edits.get(), 5)
        assert (edit.message_id, edit.data["content"]) == (mid, "fixed")
        assert (await asyncio.wait_for(deletes.get(), 5)).message_id == mid


# --- sending ------------------------------------------------------------------------------


async def test_send_records_allowed_mentions_and_stores_the_message(fake: FakeDiscord) -> None:
    async with connected(fake) as client:
        channel = client.get_channel(CHANNEL)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("hi", allowed_mentions=discord.AllowedMentions.none())
        assert sent.author == client.user
        assert sent.id > 10**17
    (call,) = fake.calls_to("POST", r"/channels/\d+/messages")
    assert call.path == "/channels/300/messages"
    assert call.json["allowed_mentions"] == {"parse": []}
    assert fake.messages[CHANNEL][sent.id]["content"] == "hi"


async def test_pings_follow_allowed_mentions(fake: FakeDiscord) -> None:
    async with connected(fake) as client:
        leads = client.get_channel(LEADS)
        role = client.get_guild(GUILD).get_role(LEAD_ROLE)
        pinged = await leads.send(
            f"{role.mention} <@{ALICE}> please look",
            allowed_mentions=discord.AllowedMentions(everyone=False, users=False, roles=[role]),
        )
        quiet = await leads.send(
            f"{role.mention} fyi", allowed_mentions=discord.AllowedMentions.none()
        )
    assert fake.messages[LEADS][pinged.id]["mention_roles"] == [str(LEAD_ROLE)]
    assert fake.messages[LEADS][pinged.id]["mentions"] == []
    assert fake.messages[LEADS][quiet.id]["mention_roles"] == []


async def test_the_bot_sees_its_own_messages_come_back(fake: FakeDiscord) -> None:
    async with connected(fake) as client:
        messages = collect(client, "message")
        sent = await client.get_channel(CHANNEL).send("echo")
        echoed = await asyncio.wait_for(messages.get(), 5)
        assert echoed.id == sent.id
        assert echoed.author == client.user


async def test_create_thread_from_a_message_then_again_fails(fake: FakeDiscord) -> None:
    async with connected(fake) as client:
        threads = collect(client, "thread_create")
        channel = client.get_channel(CHANNEL)
        message = await channel.send("ticket", allowed_mentions=discord.AllowedMentions.none())
        thread = await message.create_thread(name="Ticket #1", auto_archive_duration=10080)
        assert thread.id == message.id
        assert thread.parent_id == CHANNEL
        assert thread.owner_id == BOT
        assert (await asyncio.wait_for(threads.get(), 5)).id == thread.id
        assert client.get_guild(GUILD).get_thread(thread.id) is not None
        with pytest.raises(discord.HTTPException) as info:
            await message.create_thread(name="again")
        assert info.value.code == 160004
        await thread.send("inside")
    assert fake.threads[message.id]["thread_metadata"]["auto_archive_duration"] == 10080
    assert [m["content"] for m in fake.messages[message.id].values()] == ["inside"]


async def test_thread_on_a_user_message_via_partial_messageable(fake: FakeDiscord) -> None:
    async with connected(fake) as client:
        mid = fake.next_id()
        await fake.dispatch(
            "MESSAGE_CREATE", dp.message_create("<@1001> hi", message_id=mid, mentions=[BOT])
        )
        parent = client.get_partial_messageable(CHANNEL, guild_id=GUILD)
        thread = await parent.get_partial_message(mid).create_thread(name="Ticket")
        assert thread.id == mid
        with pytest.raises(discord.NotFound) as info:  # a message that never existed
            await parent.get_partial_message(fake.next_id()).create_thread(name="Ticket")
        assert info.value.code == 10008


async def test_edit_a_message_and_unknown_ones_are_404(fake: FakeDiscord) -> None:
    async with connected(fake) as client:
        channel = client.get_channel(CHANNEL)
        sent = await channel.send("v1")
        edited = await sent.edit(content="v2")
        assert edited.content == "v2"
        assert edited.edited_at is not None
        with pytest.raises(discord.NotFound) as info:
            await channel.get_partial_message(fake.next_id()).edit(content="x")
        assert info.value.code == 10008
    assert fake.messages[CHANNEL][sent.id]["content"] == "v2"


async def test_discord_limits_are_enforced(fake: FakeDiscord) -> None:
    async with connected(fake) as client:
        channel = client.get_channel(CHANNEL)
        with pytest.raises(discord.HTTPException) as too_long:
            await channel.send("x" * 2001)
        assert (too_long.value.status, too_long.value.code) == (400, 50035)
        assert "2000" in too_long.value.text
        with pytest.raises(discord.HTTPException) as empty:
            await channel.send("   ")
        assert empty.value.code == 50006
    assert CHANNEL not in fake.messages


async def test_rate_limit_is_retried_after_retry_after(fake: FakeDiscord) -> None:
    async with connected(fake) as client:
        fake.rate_limit("POST", r"/channels/\d+/messages", retry_after=0.5)
        started = time.monotonic()
        await client.get_channel(CHANNEL).send("after the wait")
        elapsed = time.monotonic() - started
    calls = fake.calls_to("POST", r"/channels/\d+/messages")
    assert len(calls) == 2
    assert elapsed >= 0.5
    assert calls[1].at - calls[0].at >= 0.5
    assert len(fake.messages[CHANNEL]) == 1


# --- gateway reconnects --------------------------------------------------------------------


async def test_op7_reconnect_resumes_and_replays_missed_events(fake: FakeDiscord) -> None:
    async with connected(fake) as client:
        messages, resumed = collect(client, "message"), collect(client, "resumed")
        before = await fake.dispatch(
            "MESSAGE_CREATE", dp.message_create("before", message_id=fake.next_id())
        )
        await fake.request_reconnect()
        # Sent after op 7: the client has stopped reading this socket, so only the
        # RESUME replay can deliver it.
        missed = await fake.dispatch(
            "MESSAGE_CREATE", dp.message_create("missed", message_id=fake.next_id())
        )
        await fake.wait_resumed()
        await asyncio.wait_for(resumed.get(), 5)
        contents = [(await asyncio.wait_for(messages.get(), 5)).content for _ in range(2)]
        assert contents == ["before", "missed"]
        assert messages.empty()
        after = await fake.dispatch(
            "MESSAGE_CREATE", dp.message_create("after", message_id=fake.next_id())
        )
        assert (await asyncio.wait_for(messages.get(), 5)).content == "after"
    assert (fake.identifies, fake.resumes) == (1, 1)
    assert fake.replayed_events == [missed]
    assert before < missed < after
    resume = next(f for f in fake.gateway_frames if f["op"] == 6)
    assert resume["d"]["seq"] == before


# --- interactions --------------------------------------------------------------------------


def support_tree(client: discord.Client, ran: asyncio.Queue[str]) -> app_commands.CommandTree:
    tree = app_commands.CommandTree(client)
    group = app_commands.Group(name="support", description="Support tickets")

    @group.command(name="summary", description="This ticket's summary")
    async def summary(interaction: discord.Interaction, public: bool = False) -> None:
        await interaction.response.defer(ephemeral=not public)
        sent = await interaction.followup.send("x", ephemeral=True, wait=True)
        # Discord quirk: the first follow-up fills the deferred message, whose
        # ephemerality the defer fixed; the follow-up's own flag does not count.
        await ran.put(f"summary public={public} ephemeral={sent.flags.ephemeral}")

    tree.add_command(group)
    return tree


async def test_slash_command_defer_then_ephemeral_followup(fake: FakeDiscord) -> None:
    ran: asyncio.Queue[str] = asyncio.Queue()
    client = discord.Client(intents=INTENTS)
    support_tree(client, ran)
    async with connected(fake, client):
        payload = dp.slash_command_interaction("summary", token="tok-1")
        await fake.dispatch("INTERACTION_CREATE", payload)
        assert await asyncio.wait_for(ran.get(), 5) == "summary public=False ephemeral=True"
    (callback,) = fake.interaction_callbacks
    assert callback["type"] == 5
    assert callback["data"]["flags"] == 64
    assert (callback["interaction_id"], callback["token"]) == (payload["id"], "tok-1")
    (followup,) = fake.followups
    assert (followup["content"], followup["flags"], followup["token"]) == ("x", 64, "tok-1")
    call = fake.calls_to("POST", r"/webhooks/1000/tok-1")[0]
    assert "Authorization" not in call.headers  # webhooks authenticate by their token
    assert call.query["wait"] == "1"


async def test_slash_command_option_reaches_the_callback(fake: FakeDiscord) -> None:
    ran: asyncio.Queue[str] = asyncio.Queue()
    client = discord.Client(intents=INTENTS)
    support_tree(client, ran)
    async with connected(fake, client):
        await fake.dispatch(
            "INTERACTION_CREATE",
            dp.slash_command_interaction(
                "summary", options=[{"name": "public", "type": 5, "value": True}]
            ),
        )
        assert await asyncio.wait_for(ran.get(), 5) == "summary public=True ephemeral=False"
    assert "flags" not in fake.interaction_callbacks[0].get("data", {})


async def test_tree_sync_records_the_commands(fake: FakeDiscord) -> None:
    client = discord.Client(intents=INTENTS)
    tree = support_tree(client, asyncio.Queue())
    async with connected(fake, client):
        guild = discord.Object(GUILD)
        tree.copy_global_to(guild=guild)
        synced = await tree.sync(guild=guild)
        assert [c.name for c in synced] == ["support"]
        assert synced[0].guild_id == GUILD
        await tree.sync()
    (scope, commands), (global_scope, _) = fake.command_syncs
    assert (scope, global_scope) == (GUILD, None)
    assert commands[0]["options"][0]["name"] == "summary"


async def test_a_subcommand_description_over_100_characters_is_refused(fake: FakeDiscord) -> None:
    client = discord.Client(intents=INTENTS)
    tree = app_commands.CommandTree(client)
    group = app_commands.Group(name="support", description="Support tickets")

    @group.command(name="summary", description="x" * 101)
    async def summary(interaction: discord.Interaction) -> None: ...

    tree.add_command(group)
    async with connected(fake, client):
        with pytest.raises(discord.HTTPException) as info:
            await tree.sync()
    assert info.value.code == 50035
    assert "0.options.0.description" in info.value.text
    assert fake.command_syncs == []


async def test_a_late_interaction_response_is_unknown_interaction(fake: FakeDiscord) -> None:
    fake.interaction_ack_seconds = 0.2
    errors: asyncio.Queue[BaseException] = asyncio.Queue()
    client = discord.Client(intents=INTENTS)
    tree = app_commands.CommandTree(client)
    group = app_commands.Group(name="support", description="Support tickets")

    @group.command(name="summary", description="slow")
    async def summary(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        try:
            await interaction.response.send_message("too late")
        except discord.HTTPException as exc:
            await errors.put(exc)

    tree.add_command(group)
    async with connected(fake, client):
        await fake.dispatch("INTERACTION_CREATE", dp.slash_command_interaction("summary"))
        exc = await asyncio.wait_for(errors.get(), 5)
    assert isinstance(exc, discord.NotFound)
    assert exc.code == 10062
    assert fake.interaction_callbacks == []


class TicketButtons(discord.ui.View):
    def __init__(self, pressed: asyncio.Queue[discord.Interaction]) -> None:
        super().__init__(timeout=None)
        self.pressed = pressed

    @discord.ui.button(label="Claim", custom_id="ticket:claim:1")
    async def claim(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.defer()
        await self.pressed.put(interaction)


async def test_persistent_button_reaches_its_callback(fake: FakeDiscord) -> None:
    pressed: asyncio.Queue[discord.Interaction] = asyncio.Queue()
    client = discord.Client(intents=INTENTS)
    async with connected(fake, client):
        client.add_view(TicketButtons(pressed))
        card = await client.get_channel(LEADS).send("ticket #1", view=TicketButtons(pressed))
        stored = fake.messages[LEADS][card.id]
        assert stored["components"][0]["components"][0]["custom_id"] == "ticket:claim:1"
        await fake.dispatch(
            "INTERACTION_CREATE",
            dp.component_interaction(
                "ticket:claim:1",
                message_id=card.id,
                message=stored,
                user_id=5002,
                user_name="lee",
                roles=[LEAD_ROLE],
            ),
        )
        interaction = await asyncio.wait_for(pressed.get(), 5)
        assert interaction.message is not None
        assert interaction.message.id == card.id
        assert isinstance(interaction.user, discord.Member)
        assert [r.id for r in interaction.user.roles if not r.is_default()] == [LEAD_ROLE]
        # followups after a deferred update are new messages
        await interaction.followup.send("claimed", ephemeral=True)
    assert [c["type"] for c in fake.interaction_callbacks] == [6]
    assert fake.followups[0]["content"] == "claimed"


async def test_a_press_on_a_made_up_card_and_unimplemented_callbacks(
    fake: FakeDiscord,
) -> None:
    client = discord.Client(intents=INTENTS)
    errors: asyncio.Queue[BaseException] = asyncio.Queue()

    class Edits(discord.ui.View):
        def __init__(self) -> None:
            super().__init__(timeout=None)

        @discord.ui.button(label="Resolve", custom_id="ticket:resolve:9")
        async def resolve(
            self, interaction: discord.Interaction, _: discord.ui.Button[Any]
        ) -> None:
            try:  # UPDATE_MESSAGE (7): valid on Discord, not implemented by the fake
                await interaction.response.edit_message(content="resolved", view=None)
            except discord.HTTPException as exc:
                await errors.put(exc)

    async with connected(fake, client):
        client.add_view(Edits())
        # no message given: the builder makes up a bot message holding the button
        await fake.dispatch(
            "INTERACTION_CREATE",
            dp.component_interaction("ticket:resolve:9", message_id=fake.next_id()),
        )
        exc = await asyncio.wait_for(errors.get(), 5)
    assert "does not implement callback type 7" in exc.text
    assert fake.interaction_callbacks == []


async def test_followup_before_any_response_is_unknown_webhook(fake: FakeDiscord) -> None:
    errors: asyncio.Queue[BaseException] = asyncio.Queue()
    client = discord.Client(intents=INTENTS)
    tree = app_commands.CommandTree(client)
    group = app_commands.Group(name="support", description="Support tickets")

    @group.command(name="summary", description="wrong order")
    async def summary(interaction: discord.Interaction) -> None:
        try:
            await interaction.followup.send("first?")
        except discord.HTTPException as exc:
            await errors.put(exc)
        await interaction.response.send_message("ok")
        await interaction.followup.send("second", wait=True)

    tree.add_command(group)
    async with connected(fake, client):
        await fake.dispatch("INTERACTION_CREATE", dp.slash_command_interaction("summary"))
        assert (await asyncio.wait_for(errors.get(), 5)).code == 10015
        await fake.wait_until(lambda: len(fake.followups) == 1)
    assert [c["type"] for c in fake.interaction_callbacks] == [4]
    assert fake.interaction_callbacks[0]["data"]["content"] == "ok"
    assert fake.followups[0]["content"] == "second"


# --- misc ------------------------------------------------------------------------------


async def test_unknown_routes_are_404_and_recorded(fake: FakeDiscord) -> None:
    async with connected(fake) as client:
        with pytest.raises(discord.NotFound):
            await client.fetch_guild(GUILD)
    assert fake.calls_to("GET", rf"/guilds/{GUILD}")


async def test_point_discord_py_at_restores_the_old_values() -> None:
    base = discord.http.Route.BASE
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord() as fake:
        with point_discord_py_at(fake):
            assert fake.api_base == discord.http.Route.BASE
            assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == fake.gateway_url
    assert base == discord.http.Route.BASE
    assert gateway == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


async def test_exit_closes_the_sockets_and_leaves_no_server_tasks() -> None:
    client = discord.Client(intents=INTENTS)
    async with FakeDiscord() as fake:
        with point_discord_py_at(fake):
            task = asyncio.create_task(client.start(fake.token))
            await fake.wait_ready()
            started = time.monotonic()
    try:
        assert time.monotonic() - started < 3
        await asyncio.sleep(0.05)
        lingering = [
            t
            for t in asyncio.all_tasks() - {asyncio.current_task()}
            if any(part in t.get_coro().cr_code.co_filename for part in ("aiohttp/web", "fakes"))
        ]
        assert lingering == []
    finally:
        await client.close()
        task.cancel()  # it may be sleeping before a reconnect to the stopped fake
        with contextlib.suppress(asyncio.CancelledError, discord.DiscordException):
            await task


async def test_dispatch_before_any_client_is_an_error(fake: FakeDiscord) -> None:
    with pytest.raises(RuntimeError, match="wait_ready"):
        await fake.dispatch("MESSAGE_CREATE", dp.message_create("x", message_id=1))


# --- streaming by post-then-edit, reactions, typing ------------------------------------


async def test_post_then_edit_records_every_edit_in_order(fake: FakeDiscord) -> None:
    async with connected(fake) as client:
        channel = client.get_channel(CHANNEL)
        sent = await channel.send("Open")
        for text in ("Open Billing,", "Open Billing, then Export."):
            await sent.edit(content=text)
    assert fake.edits == [
        {"channel_id": CHANNEL, "message_id": sent.id, "content": "Open Billing,"},
        {"channel_id": CHANNEL, "message_id": sent.id, "content": "Open Billing, then Export."},
    ]
    patches = fake.calls_to("PATCH", rf"/channels/{CHANNEL}/messages/{sent.id}")
    assert [c.json["content"] for c in patches] == ["Open Billing,", "Open Billing, then Export."]


async def test_the_bot_reacts_to_a_users_message_and_takes_it_back(fake: FakeDiscord) -> None:
    mid = fake.next_id()
    async with connected(fake) as client:
        received = collect(client, "message")
        await fake.dispatch("MESSAGE_CREATE", dp.message_create("help please", message_id=mid))
        message = await asyncio.wait_for(received.get(), 5)
        await message.add_reaction("👀")
        await message.add_reaction("👀")  # idempotent, as on Discord
        assert fake.reactions[mid] == ["👀"]
        await message.remove_reaction("👀", client.user)
        assert fake.reactions[mid] == []
        with pytest.raises(discord.NotFound) as info:
            await client.get_channel(CHANNEL).get_partial_message(fake.next_id()).add_reaction("👀")
        assert info.value.code == 10008
    puts = fake.calls_to("PUT", rf"/channels/{CHANNEL}/messages/{mid}/reactions/👀/@me")
    deletes = fake.calls_to("DELETE", rf"/channels/{CHANNEL}/messages/{mid}/reactions/👀/@me")
    assert (len(puts), len(deletes)) == (2, 1)


async def test_typing_is_recorded_per_channel(fake: FakeDiscord) -> None:
    async with connected(fake) as client, client.get_channel(CHANNEL).typing():
        pass
    assert fake.typing == [CHANNEL]
    assert fake.calls_to("POST", rf"/channels/{CHANNEL}/typing")
