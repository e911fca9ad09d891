"""Discord payloads -> `bot.events`, over recorded gateway payloads in tests/fixtures/discord.

Each fixture goes through discord.py's own gateway parsers (``ConnectionState.parse_*``)
on a real, never-connected `discord.Client` whose cache holds the guild of
``guild_create.json``, so the adapter gets exactly the objects it gets in production.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands

from adapters.discord.adapter import intents
from adapters.discord.commands import support_group
from adapters.discord.to_event import (
    actor_of,
    from_command,
    from_component,
    from_delete,
    from_edit,
    from_message,
    parse_custom_id,
)
from bot.events import (
    ActionInvoked,
    Actor,
    CommandInvoked,
    CommandName,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    Place,
    Platform,
    TicketAction,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "discord"

APPLICATION = "1098765432101234567"
BOT = "1098765432109876543"
GUILD = "1180219465102213120"
SUPPORT = "1180219466335469608"
LEADS = "1180219466335469609"
THREAD = "1243870120335442011"  # started from Alice's mention, so it has that message's id
CUSTOMERS_ROLE = "1180222201773817906"
LEAD_ROLE = "1180220941803520051"
BOT_ROLE = "1180221130207342632"  # the bot's managed role: tags.bot_id is BOT

ALICE = Actor(
    platform=Platform.DISCORD,
    user_id="702931264812711967",
    display_name="Alice Moreau",
    roles=(CUSTOMERS_ROLE,),
)
LEE = Actor(
    platform=Platform.DISCORD,
    user_id="839201175562731530",
    display_name="Lee (Support)",
    roles=(LEAD_ROLE,),
)


def load(name: str) -> dict[str, Any]:
    """A recorded payload (the ``d`` of a gateway dispatch)."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


class RecordingClient(discord.Client):
    """A real client that keeps what its parsers dispatch instead of running handlers."""

    def __init__(self) -> None:
        super().__init__(intents=intents())
        self.dispatched: list[tuple[str, tuple[Any, ...]]] = []

    def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        self.dispatched.append((event, args))


@dataclass
class World:
    """A client's state after READY and GUILD_CREATE, as the gateway leaves it."""

    client: RecordingClient
    state: Any = field(init=False)  # discord.state.ConnectionState

    def __post_init__(self) -> None:
        self.state = self.client._connection

    def parse(self, event: str, payload: dict[str, Any]) -> Any:
        """Run discord.py's parser for gateway `event`; return what it dispatched raw."""
        wanted = {
            "MESSAGE_CREATE": "message",
            "MESSAGE_UPDATE": "raw_message_edit",
            "MESSAGE_DELETE": "raw_message_delete",
            "INTERACTION_CREATE": "interaction",
        }[event]
        self.client.dispatched.clear()
        self.state.parsers[event](copy.deepcopy(payload))
        (args,) = [args for name, args in self.client.dispatched if name == wanted]
        return args[0]


def make_world(guild_payload: dict[str, Any] | None = None) -> World:
    world = World(RecordingClient())
    ready = load("ready")
    world.state.user = discord.ClientUser(state=world.state, data=ready["user"])
    world.state.application_id = int(ready["application"]["id"])
    guild = discord.Guild(data=guild_payload or load("guild_create"), state=world.state)
    world.state._add_guild(guild)
    return world


@pytest.fixture
def world() -> World:
    return make_world()


def posted(world: World, name: str) -> tuple[discord.Message, MessagePosted | None]:
    message = world.parse("MESSAGE_CREATE", load(name))
    return message, from_message(message, int(BOT))


# --- MESSAGE_CREATE ---------------------------------------------------------------------


def test_a_guild_mention_becomes_a_message_posted_without_the_mention(world: World) -> None:
    message, event = posted(world, "message_create_mention")
    assert isinstance(message.channel, discord.TextChannel)
    assert event == MessagePosted(
        event_id=f"message:{THREAD}",
        message_id=THREAD,
        place=Place(platform=Platform.DISCORD, workspace_id=GUILD, channel_id=SUPPORT),
        author=ALICE,
        text="I was charged twice for March, see the invoice",
        mentions_bot=True,
        posted_at=datetime(2024, 5, 25, 10, 15, 46, 677000, tzinfo=UTC),
        attachments=("invoice-2024-03.pdf",),
    )


def test_the_old_nickname_mention_form_is_stripped_too(world: World) -> None:
    payload = load("message_create_mention")
    payload["content"] = f"<@!{BOT}>   hello there  "
    event = from_message(world.parse("MESSAGE_CREATE", payload), int(BOT))
    assert event is not None
    assert (event.text, event.mentions_bot) == ("hello there", True)


def test_a_mention_of_the_bots_managed_role_mentions_the_bot(world: World) -> None:
    """What Discord's mention picker often inserts instead of the bot's user mention."""
    message, event = posted(world, "message_create_role_mention")
    (role,) = message.role_mentions
    assert role.is_bot_managed()
    assert role.tags is not None
    assert role.tags.bot_id == int(BOT)
    assert message.mentions == []
    assert event is not None
    assert (event.text, event.mentions_bot) == (
        "the export to CSV drops every accented name",
        True,
    )


def test_a_role_mention_without_the_bots_role_listed_still_counts(world: World) -> None:
    """Discord may leave a role nobody may ping out of mention_roles; the text decides."""
    payload = load("message_create_role_mention")
    payload["mention_roles"] = []
    event = from_message(world.parse("MESSAGE_CREATE", payload), int(BOT))
    assert event is not None
    assert (event.text, event.mentions_bot) == (
        "the export to CSV drops every accented name",
        True,
    )


def test_other_roles_are_not_the_bot(world: World) -> None:
    guild = load("guild_create")
    other_bot = copy.deepcopy(guild["roles"][3])
    other_bot.update(id="1180221130207342699", name="otherbot", tags={"bot_id": "42424242"})
    guild["roles"].append(other_bot)
    world = make_world(guild)
    for role in (LEAD_ROLE, other_bot["id"]):
        payload = load("message_create_role_mention")
        payload["content"] = f"<@&{role}> can someone look at this"
        payload["mention_roles"] = [role]
        event = from_message(world.parse("MESSAGE_CREATE", payload), int(BOT))
        assert event is not None
        assert (event.text, event.mentions_bot) == (payload["content"], False), role


def test_a_reply_in_a_thread_is_placed_under_the_parent_channel(world: World) -> None:
    message, event = posted(world, "message_create_thread_reply")
    assert message.type is discord.MessageType.reply
    assert isinstance(message.channel, discord.Thread)
    assert event == MessagePosted(
        event_id="message:1243871861520863313",
        message_id="1243871861520863313",
        place=Place(
            platform=Platform.DISCORD, workspace_id=GUILD, channel_id=SUPPORT, thread_id=THREAD
        ),
        author=ALICE,
        text="It happened again this morning, same amount",
        mentions_bot=False,  # replying to the bot's message with the ping off
        posted_at=datetime(2024, 5, 25, 10, 22, 41, 808000, tzinfo=UTC),
    )


def test_a_reply_in_a_thread_not_in_the_cache_names_the_thread_as_channel() -> None:
    """What the core's thread lookup relies on when discord.py never saw the thread."""
    guild = load("guild_create")
    guild["threads"] = []
    world = make_world(guild)
    message, event = posted(world, "message_create_thread_reply")
    assert isinstance(message.channel, discord.PartialMessageable)
    assert event is not None
    assert event.place == Place(platform=Platform.DISCORD, workspace_id=GUILD, channel_id=THREAD)


def test_everyone_without_a_direct_mention_does_not_mention_the_bot(world: World) -> None:
    message, event = posted(world, "message_create_everyone")
    me = world.client.get_guild(int(GUILD)).me  # type: ignore[union-attr]
    assert me.mentioned_in(message)  # what discord.py says; the adapter must not follow it
    assert event is not None
    assert event.mentions_bot is False
    assert event.text == "@everyone billing is degraded, the status page has details"
    assert event.author == LEE


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("message_create_dm", "a DM"),
        ("message_create_bot_author", "a bot"),
        ("message_create_system", "a system message"),
    ],
)
def test_messages_the_bot_ignores(world: World, name: str, why: str) -> None:
    message, event = posted(world, name)
    assert event is None, why
    # ...and for that reason, not because the payload failed to parse:
    checks = {
        "a DM": message.guild is None and isinstance(message.channel, discord.DMChannel),
        "a bot": message.author.bot and any(u.id == int(BOT) for u in message.mentions),
        "a system message": message.type is discord.MessageType.new_member,
    }
    assert checks[why]


def test_actor_of_a_plain_user_has_no_roles(world: World) -> None:
    message = world.parse("MESSAGE_CREATE", load("message_create_dm"))
    assert actor_of(message.author) == Actor(
        platform=Platform.DISCORD, user_id=ALICE.user_id, display_name="Alice Moreau"
    )


# --- MESSAGE_UPDATE / MESSAGE_DELETE -----------------------------------------------------

REPLY = "1243871861520863313"  # Alice's reply inside the thread


def edited(world: World, name: str, payload: dict[str, Any] | None = None) -> MessageEdited | None:
    raw = world.parse("MESSAGE_UPDATE", payload or load(name))
    return from_edit(raw, int(BOT))


def test_an_edit_with_content_becomes_a_message_edited_without_the_mention(world: World) -> None:
    assert edited(world, "message_update_content") == MessageEdited(
        event_id=f"edit:{THREAD}:2024-05-25T10:31:12.441000+00:00",
        message_id=THREAD,
        # Stripped like MessagePosted.text, so the stored text does not gain a mention.
        new_text="I was charged twice for March (order 8841), see the invoice",
        place=Place(platform=Platform.DISCORD, workspace_id=GUILD, channel_id=SUPPORT),
    )


@pytest.mark.parametrize("mention", [f"<@!{BOT}>", f"<@&{BOT_ROLE}>"])
def test_an_edit_strips_the_nickname_and_the_managed_role_mention(
    world: World, mention: str
) -> None:
    payload = load("message_update_content")
    payload["content"] = f"{mention} charged twice, order 8841"
    payload["mention_roles"] = [BOT_ROLE] if "&" in mention else []
    event = edited(world, "", payload)
    assert event is not None
    assert event.new_text == "charged twice, order 8841"


def test_an_edit_in_a_thread_is_placed_like_the_message_was(world: World) -> None:
    _, original = posted(world, "message_create_thread_reply")
    event = edited(world, "message_update_thread_reply")
    assert original is not None
    assert event == MessageEdited(
        event_id=f"edit:{REPLY}:2024-05-25T10:24:03.517000+00:00",
        message_id=REPLY,
        new_text="It happened again this morning, same amount (EUR 49.00)",
        place=original.place,
    )
    assert event.place == Place(
        platform=Platform.DISCORD, workspace_id=GUILD, channel_id=SUPPORT, thread_id=THREAD
    )


def test_an_edit_in_a_thread_not_in_the_cache_names_the_thread_as_channel() -> None:
    """As for new messages: the core also finds the ticket by its thread id as channel."""
    guild = load("guild_create")
    guild["threads"] = []
    event = edited(make_world(guild), "message_update_thread_reply")
    assert event is not None
    assert event.place == Place(platform=Platform.DISCORD, workspace_id=GUILD, channel_id=THREAD)


def test_an_edit_of_a_bots_message_is_skipped_like_the_message(world: World) -> None:
    """The bot's own card edits come back too; `from_message` never took bots' messages."""
    payload = load("message_create_bot_author")
    payload.update(content="edited by a bot", edited_timestamp="2024-05-25T10:40:00.000000+00:00")
    assert edited(world, "", payload) is None


def test_an_embeds_only_update_without_content_is_skipped(world: World) -> None:
    payload = load("message_update_embeds_only")
    # discord.py 2.7 builds a full Message from every MESSAGE_UPDATE, so its own parser
    # refuses this partial (pre-2024) shape; Discord now always sends the whole message.
    with pytest.raises(KeyError):
        world.state.parsers["MESSAGE_UPDATE"](copy.deepcopy(payload))
    channel = world.client.get_channel(int(payload["channel_id"]))
    assert isinstance(channel, discord.Thread)
    partial = discord.PartialMessage(channel=channel, id=int(payload["id"]))
    raw = discord.RawMessageUpdateEvent(data=payload, message=partial)  # type: ignore[arg-type]
    assert raw.guild_id == int(GUILD)
    assert from_edit(raw, int(BOT)) is None


def test_a_link_unfurl_update_is_not_an_edit(world: World) -> None:
    """Discord's current MESSAGE_UPDATE for an unfurl: the whole message, not edited."""
    raw = world.parse("MESSAGE_UPDATE", load("message_update_unfurl"))
    assert raw.data["edited_timestamp"] is None
    assert raw.message.content == "Is it this? https://status.acme.example/incidents/42"
    assert from_edit(raw, int(BOT)) is None


def test_an_update_that_leaves_the_cached_text_as_it_was_is_not_an_edit(world: World) -> None:
    """An unfurl after an edit still carries the edit's stamp; the cache knows the text."""
    posted(world, "message_create_thread_reply")  # now in discord.py's message cache
    assert edited(world, "message_update_thread_reply") is not None
    unfurl = load("message_update_thread_reply")
    unfurl["embeds"] = load("message_update_unfurl")["embeds"]
    raw = world.parse("MESSAGE_UPDATE", unfurl)
    assert raw.cached_message is not None
    assert raw.cached_message.content == raw.message.content
    assert from_edit(raw, int(BOT)) is None


def test_a_delete_in_a_cached_thread_is_placed_under_the_parent_channel(world: World) -> None:
    raw = world.parse("MESSAGE_DELETE", load("message_delete_guild"))
    assert from_delete(raw, world.client.get_channel(raw.channel_id)) == MessageDeleted(
        event_id=f"delete:{REPLY}",
        message_id=REPLY,
        place=Place(
            platform=Platform.DISCORD, workspace_id=GUILD, channel_id=SUPPORT, thread_id=THREAD
        ),
    )


def test_a_delete_in_a_thread_not_in_the_cache_names_the_thread_as_channel() -> None:
    guild = load("guild_create")
    guild["threads"] = []
    world = make_world(guild)
    raw = world.parse("MESSAGE_DELETE", load("message_delete_guild"))
    channel = world.client.get_channel(raw.channel_id)
    assert channel is None
    assert from_delete(raw, channel) == MessageDeleted(
        event_id=f"delete:{REPLY}",
        message_id=REPLY,
        place=Place(platform=Platform.DISCORD, workspace_id=GUILD, channel_id=THREAD),
    )


def test_a_delete_in_a_channel_names_the_channel(world: World) -> None:
    raw = world.parse("MESSAGE_DELETE", load("message_delete_channel"))
    event = from_delete(raw, world.client.get_channel(raw.channel_id))
    assert event is not None
    assert event.place == Place(platform=Platform.DISCORD, workspace_id=GUILD, channel_id=SUPPORT)


def test_a_dm_delete_is_skipped(world: World) -> None:
    raw = world.parse("MESSAGE_DELETE", load("message_delete_dm"))
    assert (raw.message_id, raw.guild_id) == (1243875463811301416, None)
    assert from_delete(raw, None) is None


# --- INTERACTION_CREATE: /support ---------------------------------------------------------

TICKET_TOKEN = "aW50ZXJhY3Rpb246MTI0Mzg4MDQxMjYzNzI4MjMyNDpqUnN0VGhYbXpZdkR3a1VQcWFiQ2RlRmdI"


def test_a_support_ticket_command_becomes_a_command_invoked(world: World) -> None:
    interaction = world.parse("INTERACTION_CREATE", load("interaction_command_ticket"))
    assert interaction.type is discord.InteractionType.application_command
    assert isinstance(interaction.channel, discord.Thread)
    assert from_command(interaction, "ticket", ("12",)) == CommandInvoked(
        event_id="interaction:1243880412637282324",
        name=CommandName.TICKET,
        args=("12",),
        place=Place(
            platform=Platform.DISCORD, workspace_id=GUILD, channel_id=SUPPORT, thread_id=THREAD
        ),
        actor=LEE,
        reply_handle=f"{APPLICATION}:{TICKET_TOKEN}",
    )


async def test_the_command_tree_reads_ticket_number_12_from_the_payload(world: World) -> None:
    """The adapter's `/support` group, resolved by discord.py's tree as on INTERACTION_CREATE."""
    calls: list[tuple[str, tuple[str, ...]]] = []

    async def run(interaction: discord.Interaction, name: str, args: tuple[str, ...]) -> None:
        calls.append((name, args))

    tree = app_commands.CommandTree(world.client)
    tree.add_command(support_group(run))
    interaction = discord.Interaction(data=load("interaction_command_ticket"), state=world.state)
    await tree._call(interaction)
    assert calls == [("ticket", ("12",))]
    event = from_command(interaction, *calls[0])
    assert event is not None
    assert (event.name, event.args) == (CommandName.TICKET, ("12",))


# --- INTERACTION_CREATE: buttons and selects -------------------------------------------


def test_a_claim_button_becomes_an_action_invoked(world: World) -> None:
    interaction = world.parse("INTERACTION_CREATE", load("interaction_button_claim"))
    assert interaction.message is not None
    assert interaction.message.id == 1243870125867319306
    assert from_component(interaction) == ActionInvoked(
        event_id="interaction:1243881207642439711",
        action=TicketAction.CLAIM,
        ticket_id=7,
        value=None,
        place=Place(platform=Platform.DISCORD, workspace_id=GUILD, channel_id=LEADS),
        actor=LEE,
        reply_handle=(
            f"{APPLICATION}:aW50ZXJhY3Rpb246MTI0Mzg4MTIwNzY0MjQzOTcxMTpCdXR0b25QcmVzc0NsYWltN1Rva2Vu"
        ),
    )


def test_a_category_select_becomes_a_reclassify_with_the_picked_value(world: World) -> None:
    interaction = world.parse("INTERACTION_CREATE", load("interaction_select_reclassify"))
    event = from_component(interaction)
    assert isinstance(event, ActionInvoked)
    assert (event.action, event.ticket_id, event.value) == (TicketAction.RECLASSIFY, 7, "account")
    assert event.event_id == "interaction:1243881519853715537"
    assert event.place.channel_id == LEADS
    assert event.reply_handle is not None
    assert event.reply_handle.startswith(f"{APPLICATION}:aW50ZXJhY3Rpb246MTI0Mzg4MTUxOTg1")


@pytest.mark.parametrize(
    ("name", "custom_id"),
    [
        ("interaction_select_empty", "ticket:reclassify-urgency:7"),
        ("interaction_unknown_custom_id", "ticket:escalate:7"),
    ],
)
def test_presses_the_adapter_cannot_act_on_are_skipped(
    world: World, name: str, custom_id: str
) -> None:
    interaction = world.parse("INTERACTION_CREATE", load(name))
    assert interaction.type is discord.InteractionType.component
    assert interaction.data["custom_id"] == custom_id
    assert from_component(interaction) is None


@pytest.mark.parametrize(
    ("custom_id", "parsed"),
    [
        ("ticket:claim:12", ("claim", 12)),
        ("ticket:resolve:1", ("resolve", 1)),
        ("ticket:reopen:30", ("reopen", 30)),
        ("ticket:ask-reasoner:4", ("ask-reasoner", 4)),
        ("ticket:reclassify-category:7", ("reclassify-category", 7)),
        ("ticket:reclassify-urgency:7", ("reclassify-urgency", 7)),
        ("ticket:reclassify:7", None),  # reclassify only exists as its two selects
        ("ticket:escalate:7", None),
        ("ticket:claim:", None),
        ("ticket:claim:7x", None),
        ("ticket:claim:-7", None),
        ("ticket:CLAIM:7", None),
        ("x-ticket:claim:7", None),
        ("mystery:42", None),
        ("", None),
    ],
)
def test_parse_custom_id(custom_id: str, parsed: tuple[str, int] | None) -> None:
    assert parse_custom_id(custom_id) == parsed
