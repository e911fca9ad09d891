"""Builders of what Discord sends a bot: gateway dispatch payloads (the ``d`` of
``{"op": 0, "t": ..., "d": ...}``) and the objects inside them.

Shapes follow Discord's API docs and discord.py 2.7's ``types/`` and parsers
(``state.py``, ``message.py``, ``interactions.py``, ``app_commands/tree.py``): every
key those parsers index without ``.get`` is present. The fake Discord
(`tests.fakes.discord`) uses the same object builders for its REST answers, READY
and GUILD_CREATE, so a test and the fake agree on what a user or a channel looks like.

Ids are strings on the wire, as on Discord. Builders are pure except where a value
defaults to "now" (timestamps) or to a fresh snowflake (`snowflake`).
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "BOT_USER_ID",
    "DEFAULT_PERMISSIONS",
    "DISCORD_EPOCH_MS",
    "bot_member",
    "channel_object",
    "component_interaction",
    "guild_create",
    "member",
    "message_create",
    "message_delete",
    "message_object",
    "message_update",
    "resolve_mentions",
    "role",
    "slash_command_interaction",
    "snowflake",
    "thread_channel",
    "timestamp",
    "user",
]

DISCORD_EPOCH_MS = 1_420_070_400_000
BOT_USER_ID = 1001

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38

# Roughly what a new server gives @everyone.
DEFAULT_PERMISSIONS = (
    ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS
    | SEND_MESSAGES_IN_THREADS
)
LEAD_PERMISSIONS = DEFAULT_PERMISSIONS | MANAGE_MESSAGES | MANAGE_THREADS
BOT_PERMISSIONS = DEFAULT_PERMISSIONS | MANAGE_MESSAGES | MANAGE_THREADS | MENTION_EVERYONE


class _SnowflakeClock:
    """Real-looking snowflakes (milliseconds since 2015 << 22), strictly increasing."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()  # payload builders may run in any thread

    def next(self) -> int:
        with self._lock:
            now = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
            self._last = max(now, self._last + 1)
            return self._last


_clock = _SnowflakeClock()
_tokens = itertools.count(1)


def snowflake() -> int:
    """A fresh snowflake id, larger than every one handed out before (~1.5e18)."""
    return _clock.next()


def timestamp(at: datetime | None = None) -> str:
    """An ISO 8601 timestamp as Discord writes them (UTC, microseconds)."""
    return (at or datetime.now(UTC)).isoformat(timespec="microseconds")


def _ids(values: Iterable[int | str]) -> list[str]:
    return [str(v) for v in values]


# --- users, members, roles ----------------------------------------------------------


def user(user_id: int, name: str | None = None, *, bot: bool = False) -> dict[str, Any]:
    """A user object; ``name`` defaults to ``user<id>``."""
    body: dict[str, Any] = {
        "id": str(user_id),
        "username": name or f"user{user_id}",
        "discriminator": "0",
        "global_name": None if bot else (name or f"user{user_id}").title(),
        "avatar": None,
        "public_flags": 0,
    }
    if bot:
        body["bot"] = True
    return body


def member(
    roles: Iterable[int] = (),
    *,
    user_obj: dict[str, Any] | None = None,
    joined_at: str = "2024-01-02T03:04:05.000000+00:00",
    permissions: str | None = None,
) -> dict[str, Any]:
    """A guild member. With ``user_obj`` it is a full member (GUILD_CREATE,
    interactions); without, the partial one MESSAGE_CREATE carries."""
    body: dict[str, Any] = {
        "roles": _ids(roles),
        "joined_at": joined_at,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
        "avatar": None,
        "premium_since": None,
        "pending": False,
        "communication_disabled_until": None,
    }
    if user_obj is not None:
        body["user"] = user_obj
    if permissions is not None:
        body["permissions"] = permissions
    return body


def bot_member(bot_user: dict[str, Any], bot_role_id: int) -> dict[str, Any]:
    """The bot's own member, with its managed role (what GUILD_CREATE lists)."""
    return member([bot_role_id], user_obj=bot_user)


def role(
    role_id: int,
    name: str,
    *,
    permissions: int = DEFAULT_PERMISSIONS,
    position: int = 0,
    mentionable: bool = False,
    managed: bool = False,
    bot_id: int | None = None,
) -> dict[str, Any]:
    """A role object (the @everyone role has the guild's id and position 0)."""
    body: dict[str, Any] = {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": managed,
        "mentionable": mentionable,
        "flags": 0,
    }
    if bot_id is not None:
        body["tags"] = {"bot_id": str(bot_id)}
    return body


# --- channels -----------------------------------------------------------------------


def channel_object(
    channel_id: int,
    name: str,
    *,
    guild_id: int = 2000,
    position: int = 0,
    topic: str | None = None,
    parent_id: int | None = None,
) -> dict[str, Any]:
    """A guild text channel (type 0)."""
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(guild_id),
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "parent_id": None if parent_id is None else str(parent_id),
        "nsfw": False,
        "topic": topic,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "default_auto_archive_duration": 1440,
        "default_thread_rate_limit_per_user": 0,
        "flags": 0,
    }


def thread_channel(
    thread_id: int,
    parent_id: int,
    *,
    guild_id: int = 2000,
    name: str = "Ticket",
    owner_id: int = BOT_USER_ID,
    auto_archive_duration: int = 1440,
    archived: bool = False,
    locked: bool = False,
    private: bool = False,
    message_count: int = 0,
    member_count: int = 1,
    newly_created: bool = False,
) -> dict[str, Any]:
    """A thread channel (type 11 public, 12 private), as THREAD_CREATE or the REST
    answer carries it. A public thread started from a message has that message's id."""
    now = timestamp()
    body: dict[str, Any] = {
        "id": str(thread_id),
        "type": 12 if private else 11,
        "guild_id": str(guild_id),
        "parent_id": str(parent_id),
        "owner_id": str(owner_id),
        "name": name,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
        "message_count": message_count,
        "member_count": member_count,
        "total_message_sent": message_count,
        "thread_metadata": {
            "archived": archived,
            "auto_archive_duration": auto_archive_duration,
            "archive_timestamp": now,
            "locked": locked,
            "create_timestamp": now,
        },
    }
    if private:
        body["thread_metadata"]["invitable"] = True
    if newly_created:
        body["newly_created"] = True
    return body


# --- messages -----------------------------------------------------------------------


def message_object(
    *,
    message_id: int,
    channel_id: int,
    content: str,
    author: dict[str, Any],
    guild_id: int | None = 2000,
    embeds: Iterable[dict[str, Any]] = (),
    components: Iterable[dict[str, Any]] = (),
    mentions: Iterable[dict[str, Any]] = (),
    mention_roles: Iterable[int | str] = (),
    mention_everyone: bool = False,
    attachments: Iterable[dict[str, Any]] = (),
    flags: int = 0,
    message_type: int = 0,
    edited_timestamp: str | None = None,
    created: str | None = None,
) -> dict[str, Any]:
    """A full message object (REST answers and the base of MESSAGE_CREATE)."""
    body: dict[str, Any] = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "type": message_type,
        "content": content,
        "author": author,
        "embeds": list(embeds),
        "components": list(components),
        "attachments": list(attachments),
        "mentions": list(mentions),
        "mention_roles": _ids(mention_roles),
        "mention_everyone": mention_everyone,
        "timestamp": created or timestamp(),
        "edited_timestamp": edited_timestamp,
        "tts": False,
        "pinned": False,
        "flags": flags,
    }
    if guild_id is not None:
        body["guild_id"] = str(guild_id)
    return body


def message_create(
    content: str,
    *,
    message_id: int,
    channel_id: int = 300,
    guild_id: int | None = 2000,
    author_id: int = 5001,
    author_name: str = "alice",
    bot: bool = False,
    mentions: Iterable[int] = (),
    roles: Iterable[int] = (),
    mention_everyone: bool = False,
    mention_roles: Iterable[int] = (),
) -> dict[str, Any]:
    """MESSAGE_CREATE ``d`` from a user. ``guild_id=None`` makes it a DM (no member).

    A mention of the bot is ``content="<@1001> help", mentions=[1001]``; the
    mentioned users become user objects (the bot's id gets a bot user).
    """
    body = message_object(
        message_id=message_id,
        channel_id=channel_id,
        content=content,
        author=user(author_id, author_name, bot=bot),
        guild_id=guild_id,
        mentions=[_mentioned_user(uid) for uid in mentions],
        mention_roles=mention_roles,
        mention_everyone=mention_everyone,
    )
    if guild_id is not None:
        body["member"] = member(roles)
    return body


def _mentioned_user(user_id: int) -> dict[str, Any]:
    if user_id == BOT_USER_ID:
        return user(user_id, "supportbot", bot=True)
    return user(user_id)


def message_update(
    message_id: int,
    channel_id: int,
    content: str,
    *,
    guild_id: int | None = 2000,
    author_id: int = 5001,
    author_name: str = "alice",
) -> dict[str, Any]:
    """MESSAGE_UPDATE ``d`` for an edited user message (a full message with
    ``edited_timestamp``, as Discord sends since 2024)."""
    body = message_create(
        content,
        message_id=message_id,
        channel_id=channel_id,
        guild_id=guild_id,
        author_id=author_id,
        author_name=author_name,
    )
    body["edited_timestamp"] = timestamp()
    body["timestamp"] = timestamp(datetime.now(UTC) - timedelta(minutes=1))
    return body


def message_delete(
    message_id: int, channel_id: int, *, guild_id: int | None = 2000
) -> dict[str, Any]:
    """MESSAGE_DELETE ``d``."""
    body = {"id": str(message_id), "channel_id": str(channel_id)}
    if guild_id is not None:
        body["guild_id"] = str(guild_id)
    return body


# --- guild ------------------------------------------------------------------------


def guild_create(
    *,
    guild_id: int,
    bot_user: dict[str, Any],
    bot_role_id: int,
    channels: list[dict[str, Any]],
    threads: list[dict[str, Any]],
    lead_role_id: int,
    owner_id: int = 5000,
) -> dict[str, Any]:
    """GUILD_CREATE ``d``: a small, available guild with @everyone, a mentionable
    lead role and the bot's managed role; the bot is the only member sent (no
    GUILD_MEMBERS intent needed, and ``member_count`` stays under ``large``)."""
    return {
        "id": str(guild_id),
        "name": "Acme Support",
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": [
            role(guild_id, "@everyone"),
            role(
                lead_role_id,
                "Support Leads",
                permissions=LEAD_PERMISSIONS,
                position=1,
                mentionable=True,
            ),
            role(
                bot_role_id,
                "supportbot",
                permissions=BOT_PERMISSIONS,
                position=2,
                managed=True,
                bot_id=int(bot_user["id"]),
            ),
        ],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": channels[0]["id"] if channels else None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "max_presences": None,
        "max_members": 500000,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": "en-US",
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "nsfw": False,
        "joined_at": "2024-01-02T03:04:05.000000+00:00",
        "large": False,
        "lazy": True,
        "unavailable": False,
        "member_count": 3,
        "voice_states": [],
        "members": [bot_member(bot_user, bot_role_id)],
        "presences": [],
        "channels": channels,
        "threads": threads,
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "incidents_data": None,
    }


# --- interactions -----------------------------------------------------------------


def _interaction_base(
    *,
    interaction_type: int,
    interaction_id: int | None,
    token: str | None,
    user_id: int,
    user_name: str,
    roles: Iterable[int],
    channel_id: int,
    channel_type: int,
    parent_id: int | None,
    guild_id: int,
    application_id: int,
    permissions: str,
) -> dict[str, Any]:
    if channel_type in (11, 12):
        channel = thread_channel(
            channel_id, parent_id or 300, guild_id=guild_id, private=channel_type == 12
        )
    else:
        channel = channel_object(channel_id, f"channel-{channel_id}", guild_id=guild_id)
    channel["permissions"] = str(BOT_PERMISSIONS)
    return {
        "id": str(interaction_id or snowflake()),
        "application_id": str(application_id),
        "type": interaction_type,
        "guild_id": str(guild_id),
        "guild": {"id": str(guild_id), "locale": "en-US", "features": []},
        "channel_id": str(channel_id),
        "channel": channel,
        "member": member(roles, user_obj=user(user_id, user_name), permissions=permissions),
        "token": token or f"itoken-{next(_tokens)}-{uuid.uuid4().hex}",
        "version": 1,
        "app_permissions": str(BOT_PERMISSIONS),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "entitlement_sku_ids": [],
        "authorizing_integration_owners": {"0": str(guild_id)},
        "context": 0,
        "attachment_size_limit": 10 * 1024 * 1024,
    }


def slash_command_interaction(
    subcommand: str,
    *,
    options: Iterable[dict[str, Any]] = (),
    interaction_id: int | None = None,
    token: str | None = None,
    user_id: int = 5001,
    user_name: str = "alice",
    roles: Iterable[int] = (),
    channel_id: int = 300,
    channel_type: int = 0,
    parent_id: int | None = None,
    guild_id: int = 2000,
    application_id: int = 1000,
    command_id: int | None = None,
    command_name: str = "support",
    global_command: bool = False,
    permissions: str = str(DEFAULT_PERMISSIONS),
) -> dict[str, Any]:
    """INTERACTION_CREATE ``d`` for ``/support <subcommand> [options]`` (type 2).

    ``options`` are the subcommand's own, e.g. ``[{"name": "public", "type": 5,
    "value": True}]``. ``data.guild_id`` is set, as for a guild command, unless
    ``global_command``; discord.py's tree falls back to global commands either way.
    For a thread, pass ``channel_type=11, parent_id=...``. Fresh ``interaction_id``
    and ``token`` are made when not given.
    """
    body = _interaction_base(
        interaction_type=2,
        interaction_id=interaction_id,
        token=token,
        user_id=user_id,
        user_name=user_name,
        roles=roles,
        channel_id=channel_id,
        channel_type=channel_type,
        parent_id=parent_id,
        guild_id=guild_id,
        application_id=application_id,
        permissions=permissions,
    )
    data: dict[str, Any] = {
        "id": str(command_id or snowflake()),
        "name": command_name,
        "type": 1,
        "options": [{"name": subcommand, "type": 1, "options": list(options)}],
    }
    if not global_command:
        data["guild_id"] = str(guild_id)
    body["data"] = data
    return body


def component_interaction(
    custom_id: str,
    *,
    interaction_id: int | None = None,
    token: str | None = None,
    user_id: int = 5001,
    user_name: str = "alice",
    roles: Iterable[int] = (),
    channel_id: int = 301,
    channel_type: int = 0,
    parent_id: int | None = None,
    message_id: int,
    message: dict[str, Any] | None = None,
    component_type: int = 2,
    values: list[str] | None = None,
    guild_id: int = 2000,
    application_id: int = 1000,
    permissions: str = str(DEFAULT_PERMISSIONS),
) -> dict[str, Any]:
    """INTERACTION_CREATE ``d`` for a button press (``component_type=2``) or a select
    (3 = string select, with ``values``) on message ``message_id`` (type 3).

    ``message`` is the message the component was on; pass the stored one
    (``fake.messages[channel][id]``) to be exact, else a bot message holding just
    this component is made up.
    """
    body = _interaction_base(
        interaction_type=3,
        interaction_id=interaction_id,
        token=token,
        user_id=user_id,
        user_name=user_name,
        roles=roles,
        channel_id=channel_id,
        channel_type=channel_type,
        parent_id=parent_id,
        guild_id=guild_id,
        application_id=application_id,
        permissions=permissions,
    )
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
    if values is not None:
        data["values"] = list(values)
    body["data"] = data
    if message is None:
        if component_type == 2:
            item: dict[str, Any] = {"type": 2, "style": 1, "label": "Press", "custom_id": custom_id}
        else:
            item = {
                "type": component_type,
                "custom_id": custom_id,
                "options": [{"label": v, "value": v} for v in (values or ["x"])],
                "min_values": 1,
                "max_values": 1,
            }
        message = message_object(
            message_id=message_id,
            channel_id=channel_id,
            content="",
            author=user(BOT_USER_ID, "supportbot", bot=True),
            guild_id=guild_id,
            components=[{"type": 1, "components": [item]}],
        )
    body["message"] = message
    return body


# --- mentions, as Discord resolves them for a message the bot posts ------------------

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


def resolve_mentions(
    content: str, allowed: dict[str, Any] | None
) -> tuple[list[int], list[int], bool]:
    """(user ids, role ids, mention_everyone) that ``content`` pings under
    ``allowed_mentions``; no ``allowed_mentions`` means everything is parsed."""
    if allowed is None:
        allowed = {"parse": ["users", "roles", "everyone"]}
    parse = set(allowed.get("parse") or [])
    user_list = {int(u) for u in allowed.get("users") or []}
    role_list = {int(r) for r in allowed.get("roles") or []}
    users = [int(u) for u in dict.fromkeys(_USER_MENTION.findall(content))]
    roles = [int(r) for r in dict.fromkeys(_ROLE_MENTION.findall(content))]
    users = [u for u in users if "users" in parse or u in user_list]
    roles = [r for r in roles if "roles" in parse or r in role_list]
    everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
    return users, roles, everyone
