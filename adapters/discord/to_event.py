"""discord.py objects -> `bot.events`. Small functions; strange input gives None, never raises."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.events import (
    ActionInvoked,
    Actor,
    CommandInvoked,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    Place,
    Platform,
    TicketAction,
)

__all__ = [
    "actor_of",
    "from_command",
    "from_component",
    "from_delete",
    "from_edit",
    "from_message",
    "parse_custom_id",
]

log = logging.getLogger(__name__)

_VERBS = "|".join(
    re.escape(verb)
    for action in TicketAction
    for verb in (
        (f"{action}-category", f"{action}-urgency")
        if action is TicketAction.RECLASSIFY
        else (action,)
    )
)
CUSTOM_ID = re.compile(rf"^ticket:(?P<verb>{_VERBS}):(?P<ticket>\d+)$")


def actor_of(user: discord.abc.User | discord.Member) -> Actor:
    """A Discord user as an Actor; a member's role ids become roles."""
    roles = tuple(str(r.id) for r in getattr(user, "roles", ()) if not r.is_default())
    return Actor(
        platform=Platform.DISCORD,
        user_id=str(user.id),
        display_name=getattr(user, "display_name", "") or user.name,
        is_bot=bool(user.bot),
        roles=roles,
    )


def _place(guild_id: int | None, channel: Any) -> Place:
    # In a thread, the ticket lives under the parent channel with the thread's id.
    parent_id = getattr(channel, "parent_id", None)
    if isinstance(channel, discord.Thread) and parent_id:
        return Place(
            platform=Platform.DISCORD,
            workspace_id=str(guild_id),
            channel_id=str(parent_id),
            thread_id=str(channel.id),
        )
    return Place(platform=Platform.DISCORD, workspace_id=str(guild_id), channel_id=str(channel.id))


def _strip_mention(content: str, bot_id: int) -> str:
    return re.sub(rf"<@!?{bot_id}>", "", content).strip()


def from_message(message: discord.Message, bot_id: int) -> MessagePosted | None:
    """A guild message -> MessagePosted; DMs, bots and system messages give None."""
    if (
        message.guild is None
        or message.author.bot
        or message.type not in (discord.MessageType.default, discord.MessageType.reply)
    ):
        return None
    # `mentioned_in` is also true for @everyone; only a direct mention counts.
    mentioned = any(user.id == bot_id for user in message.mentions)
    return MessagePosted(
        event_id=f"message:{message.id}",
        message_id=str(message.id),
        place=_place(message.guild.id, message.channel),
        author=actor_of(message.author),
        text=_strip_mention(message.content, bot_id),
        mentions_bot=mentioned,
        posted_at=message.created_at,
        attachments=tuple(a.filename for a in message.attachments),
    )


def from_edit(payload: discord.RawMessageUpdateEvent) -> MessageEdited | None:
    """An edit with new content -> MessageEdited (embeds-only updates give None)."""
    content = payload.data.get("content")
    if content is None or payload.guild_id is None:
        return None
    stamp = payload.data.get("edited_timestamp") or ""
    return MessageEdited(
        event_id=f"edit:{payload.message_id}:{stamp}",
        message_id=str(payload.message_id),
        new_text=content,
        place=Place(
            platform=Platform.DISCORD,
            workspace_id=str(payload.guild_id),
            channel_id=str(payload.channel_id),
        ),
    )


def from_delete(payload: discord.RawMessageDeleteEvent) -> MessageDeleted | None:
    """A deleted guild message -> MessageDeleted."""
    if payload.guild_id is None:
        return None
    return MessageDeleted(
        event_id=f"delete:{payload.message_id}",
        message_id=str(payload.message_id),
        place=Place(
            platform=Platform.DISCORD,
            workspace_id=str(payload.guild_id),
            channel_id=str(payload.channel_id),
        ),
    )


def reply_handle(interaction: discord.Interaction) -> str:
    """Where a late answer goes: `application_id:token` of the interaction's webhook."""
    return f"{interaction.application_id}:{interaction.token}"


def from_command(
    interaction: discord.Interaction, name: str, args: tuple[str, ...]
) -> CommandInvoked | None:
    """A `/support <name>` interaction -> CommandInvoked."""
    if interaction.guild_id is None or interaction.channel is None:
        return None
    return CommandInvoked(
        event_id=f"interaction:{interaction.id}",
        name=name,
        args=args,  # type: ignore[arg-type]
        place=_place(interaction.guild_id, interaction.channel),
        actor=actor_of(interaction.user),
        reply_handle=reply_handle(interaction),
    )


def parse_custom_id(custom_id: str) -> tuple[str, int] | None:
    """`ticket:claim:12` -> ("claim", 12); anything else -> None."""
    match = CUSTOM_ID.match(custom_id)
    return (match["verb"], int(match["ticket"])) if match else None


def from_component(interaction: discord.Interaction) -> ActionInvoked | None:
    """A press on one of our ticket buttons or selects -> ActionInvoked."""
    data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]
    parsed = parse_custom_id(str(data.get("custom_id", "")))
    if parsed is None or interaction.guild_id is None or interaction.channel is None:
        return None
    verb, ticket_id = parsed
    value = None
    if verb.startswith(TicketAction.RECLASSIFY):
        values = data.get("values") or []
        if not values:
            return None
        verb, value = TicketAction.RECLASSIFY, str(values[0])
    return ActionInvoked(
        event_id=f"interaction:{interaction.id}",
        action=verb,  # type: ignore[arg-type]
        ticket_id=ticket_id,
        value=value,
        place=_place(interaction.guild_id, interaction.channel),
        actor=actor_of(interaction.user),
        reply_handle=reply_handle(interaction),
    )
