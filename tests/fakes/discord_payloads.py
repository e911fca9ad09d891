"""Builders of what Discord sends a bot: gateway dispatch payloads (the ``d`` of
``{"op": 0, "t": ..., "d": ...}``) and the objects inside them.

Shapes follow Discord's API docs and discord.py 2.7's parsers (``state.py``,
``message.py``, ``interactions.py``): every key those parsers index without ``.get``
is present. The fake Discord (`tests.fakes.discord`) builds its REST answers, READY
and GUILD_CREATE from the same builders. Ids are strings on the wire, as on Discord.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "APPLICATION_ID",
    "BOT_USER_ID",
    "GUILD_ID",
    "channel_object",
    "component_interaction",
    "guild_create",
    "member",
    "message_create",
    "message_delete",
    "message_object",
    "message_update",
    "modal_submit_interaction",
    "role",
    "slash_command_interaction",
    "snowflake",
    "thread_channel",
    "timestamp",
    "user",
]

DISCORD_EPOCH_MS = 1_420_070_400_000
APPLICATION_ID = 1000
BOT_USER_ID = 1001
GUILD_ID = 2000

# Permission bits (https://discord.com/developers/docs/topics/permissions): what a new
# server gives @everyone (view, send, embed, attach, history, commands, threads).
DEFAULT_PERMISSIONS = sum(1 << bit for bit in (6, 10, 11, 14, 15, 16, 31, 35, 36, 38))
LEAD_PERMISSIONS = DEFAULT_PERMISSIONS | 1 << 13 | 1 << 34  # + manage messages/threads
BOT_PERMISSIONS = LEAD_PERMISSIONS | 1 << 17  # + mention everyone


_last_snowflake = 0
_snowflake_lock = threading.Lock()  # payload builders may run in any thread
_tokens = itertools.count(1)


def snowflake() -> int:
    """A fresh, real-looking snowflake (milliseconds since 2015 << 22), larger than
    every one handed out before (~1.5e18)."""
    global _last_snowflake
    with _snowflake_lock:
        now = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        _last_snowflake = max(now, _last_snowflake + 1)
        return _last_snowflake


def timestamp(at: datetime | None = None) -> str:
    """An ISO 8601 timestamp as Discord writes them (UTC, microseconds)."""
    return (at or datetime.now(UTC)).isoformat(timespec="microseconds")


# --- users, members, roles ----------------------------------------------------------


def user(user_id: int, name: str | None = None, *, bot: bool = False) -> dict[str, Any]:
    """A user object; ``name`` defaults to ``user<id>``."""
    name = name or f"user{user_id}"
    body: dict[str, Any] = {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": None if bot else name.title(),
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
    permissions: str | None = None,
) -> dict[str, Any]:
    """A guild member. With ``user_obj`` it is a full member (GUILD_CREATE,
    interactions); without, the partial one MESSAGE_CREATE carries."""
    body: dict[str, Any] = {
        "roles": [str(r) for r in roles],
        "joined_at": "2024-01-02T03:04:05.000000+00:00",
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


def role(
    role_id: int,
    name: str,
    *,
    permissions: int = DEFAULT_PERMISSIONS,
    position: int = 0,
    mentionable: bool = False,
    bot_id: int | None = None,
) -> dict[str, Any]:
    """A role object (the @everyone role has the guild's id and position 0); with
    ``bot_id`` it is that bot's managed role."""
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
        "managed": bot_id is not None,
        "mentionable": mentionable,
        "flags": 0,
    }
    if bot_id is not None:
        body["tags"] = {"bot_id": str(bot_id)}
    return body


# --- channels -----------------------------------------------------------------------


def channel_object(
    channel_id: int, name: str, *, position: int = 0, topic: str | None = None
) -> dict[str, Any]:
    """A text channel (type 0) of the guild."""
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(GUILD_ID),
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "parent_id": None,
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
    name: str = "Ticket",
    auto_archive_duration: int = 1440,
) -> dict[str, Any]:
    """A public thread (type 11) the bot made, as THREAD_CREATE or the REST answer carries it. A
    thread started from a message has that message's id."""
    now = timestamp()
    return {
        "id": str(thread_id),
        "type": 11,
        "guild_id": str(GUILD_ID),
        "parent_id": str(parent_id),
        "owner_id": str(BOT_USER_ID),
        "name": name,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
        "message_count": 0,
        "member_count": 1,
        "total_message_sent": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": auto_archive_duration,
            "archive_timestamp": now,
            "locked": False,
            "create_timestamp": now,
        },
    }


# --- messages -----------------------------------------------------------------------


def message_object(
    *,
    message_id: int,
    channel_id: int,
    content: str,
    author: dict[str, Any],
    embeds: Iterable[dict[str, Any]] = (),
    components: Iterable[dict[str, Any]] = (),
    mentions: Iterable[dict[str, Any]] = (),
    mention_roles: Iterable[int] = (),
    mention_everyone: bool = False,
    flags: int = 0,
) -> dict[str, Any]:
    """A full message object (REST answers and the base of MESSAGE_CREATE)."""
    return {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "type": 0,
        "content": content,
        "author": author,
        "embeds": list(embeds),
        "components": list(components),
        "attachments": [],
        "mentions": list(mentions),
        "mention_roles": [str(r) for r in mention_roles],
        "mention_everyone": mention_everyone,
        "timestamp": timestamp(),
        "edited_timestamp": None,
        "tts": False,
        "pinned": False,
        "flags": flags,
        "guild_id": str(GUILD_ID),
    }


def message_create(
    content: str,
    *,
    message_id: int,
    channel_id: int = 300,
    mentions: Iterable[int] = (),
    mention_roles: Iterable[int] = (),
) -> dict[str, Any]:
    """MESSAGE_CREATE ``d``: alice (user 5001, a member without roles) posts in the guild.

    A mention of the bot is ``content="<@1001> help", mentions=[1001]``; the
    mentioned users become user objects (the bot's id gets a bot user). A mention of
    a role is ``content="<@&400> help", mention_roles=[400]``.
    """
    body = message_object(
        message_id=message_id,
        channel_id=channel_id,
        content=content,
        author=user(5001, "alice"),
        mentions=[
            user(uid, "supportbot", bot=True) if uid == BOT_USER_ID else user(uid)
            for uid in mentions
        ],
        mention_roles=mention_roles,
    )
    body["member"] = member()
    return body


def message_update(message_id: int, channel_id: int, content: str) -> dict[str, Any]:
    """MESSAGE_UPDATE ``d`` for alice's edited message (a full message with
    ``edited_timestamp``, as Discord sends since 2024)."""
    body = message_create(content, message_id=message_id, channel_id=channel_id)
    body["edited_timestamp"] = timestamp()
    body["timestamp"] = timestamp(datetime.now(UTC) - timedelta(minutes=1))
    return body


def message_delete(message_id: int, channel_id: int) -> dict[str, Any]:
    """MESSAGE_DELETE ``d`` of a guild message."""
    return {"id": str(message_id), "channel_id": str(channel_id), "guild_id": str(GUILD_ID)}


# --- guild ------------------------------------------------------------------------


def guild_create(
    *,
    bot_member: dict[str, Any],
    bot_role_id: int,
    lead_role_id: int,
    channels: list[dict[str, Any]],
    threads: list[dict[str, Any]],
) -> dict[str, Any]:
    """GUILD_CREATE ``d``: a small, available guild with @everyone, a mentionable
    lead role and the bot's managed role; the bot is the only member sent (no
    GUILD_MEMBERS intent needed, and ``member_count`` stays under ``large``)."""
    return {
        "id": str(GUILD_ID),
        "name": "Acme Support",
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": "5000",
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": [
            role(GUILD_ID, "@everyone"),
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
                bot_id=int(bot_member["user"]["id"]),
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
        "members": [bot_member],
        "presences": [],
        "channels": channels,
        "threads": threads,
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "incidents_data": None,
    }


# --- interactions -----------------------------------------------------------------


def _interaction(
    interaction_type: int,
    *,
    channel_id: int,
    interaction_id: int | None = None,
    token: str | None = None,
    user_id: int = 5001,
    user_name: str = "alice",
    roles: Iterable[int] = (),
) -> dict[str, Any]:
    """What every guild interaction carries: who (a member with ``roles``) in which
    channel; a fresh ``interaction_id`` and ``token`` unless given."""
    channel = channel_object(channel_id, f"channel-{channel_id}")
    channel["permissions"] = str(BOT_PERMISSIONS)
    return {
        "id": str(interaction_id or snowflake()),
        "application_id": str(APPLICATION_ID),
        "type": interaction_type,
        "guild_id": str(GUILD_ID),
        "guild": {"id": str(GUILD_ID), "locale": "en-US", "features": []},
        "channel_id": str(channel_id),
        "channel": channel,
        "member": member(
            roles, user_obj=user(user_id, user_name), permissions=str(DEFAULT_PERMISSIONS)
        ),
        "token": token or f"itoken-{next(_tokens)}-{uuid.uuid4().hex}",
        "version": 1,
        "app_permissions": str(BOT_PERMISSIONS),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "entitlement_sku_ids": [],
        "authorizing_integration_owners": {"0": str(GUILD_ID)},
        "context": 0,
        "attachment_size_limit": 10 * 1024 * 1024,
    }


def slash_command_interaction(
    subcommand: str, *, options: Iterable[dict[str, Any]] = (), channel_id: int = 300, **who: Any
) -> dict[str, Any]:
    """INTERACTION_CREATE ``d`` for the guild command ``/support <subcommand>`` (type 2).

    ``options`` are the subcommand's own, e.g. ``[{"name": "public", "type": 5,
    "value": True}]``; ``who`` is `_interaction`'s (``user_id``, ``roles``, ``token``...).
    """
    body = _interaction(2, channel_id=channel_id, **who)
    body["data"] = {
        "id": str(snowflake()),
        "name": "support",
        "type": 1,
        "guild_id": str(GUILD_ID),
        "options": [{"name": subcommand, "type": 1, "options": list(options)}],
    }
    return body


def component_interaction(
    custom_id: str,
    *,
    message_id: int,
    message: dict[str, Any] | None = None,
    component_type: int = 2,
    values: list[str] | None = None,
    channel_id: int = 301,
    **who: Any,
) -> dict[str, Any]:
    """INTERACTION_CREATE ``d`` for a button press (``component_type=2``) or a select
    (3 = string select, with ``values``) on message ``message_id`` (type 3).

    ``message`` is the message the component was on; pass the stored one
    (``fake.messages[channel][id]``) to be exact, else a bot message holding just
    this component is made up. ``who`` is `_interaction`'s.
    """
    body = _interaction(3, channel_id=channel_id, **who)
    body["data"] = {"custom_id": custom_id, "component_type": component_type}
    if values is not None:
        body["data"]["values"] = list(values)
    if message is None:
        item: dict[str, Any] = {"type": component_type, "custom_id": custom_id}
        if component_type == 2:
            item.update(style=1, label="Press")
        else:
            options = [{"label": v, "value": v} for v in (values or ["x"])]
            item.update(options=options, min_values=1, max_values=1)
        message = message_object(
            message_id=message_id,
            channel_id=channel_id,
            content="",
            author=user(BOT_USER_ID, "supportbot", bot=True),
            components=[{"type": 1, "components": [item]}],
        )
    body["message"] = message
    return body


def modal_submit_interaction(
    custom_id: str,
    values: dict[str, str],
    *,
    message: dict[str, Any] | None = None,
    channel_id: int = 301,
    **who: Any,
) -> dict[str, Any]:
    """INTERACTION_CREATE ``d`` for a submitted modal (type 5): ``values`` by text input
    custom_id, each in a label (type 18) as Discord sends them; ``message`` is the one
    whose button opened the modal, if any. ``who`` is `_interaction`'s."""
    body = _interaction(5, channel_id=channel_id, **who)
    body["data"] = {
        "custom_id": custom_id,
        "components": [
            {"type": 18, "id": 2 * n + 1, "component": {"type": 4, "id": 2 * n + 2,
             "custom_id": key, "value": value}}
            for n, (key, value) in enumerate(values.items())
        ],
    }  # fmt: skip
    if message is not None:
        body["message"] = message
    return body
