"""discord.py objects -> `bot.events`. Small functions; strange input gives None, never raises."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import discord

from bot.events import (
    ActionInvoked,
    Actor,
    AnswerApproved,
    CommandInvoked,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    Place,
    Platform,
    TicketAction,
)

__all__ = [
    "ANSWER_FIELD",
    "QUESTION_FIELD",
    "actor_of",
    "form_id",
    "from_command",
    "from_component",
    "from_delete",
    "from_edit",
    "from_message",
    "from_modal_submit",
    "parse_custom_id",
    "parse_save_form",
    "save_press",
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
FORM_ID = re.compile(rf"^{re.escape(TicketAction.SAVE_ANSWER)}:(?P<ticket>\d+)$")
QUESTION_FIELD, ANSWER_FIELD = "question", "answer"
"""The custom_ids of the "Save as answer" form's text inputs."""


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
    """Where a message lives. In a thread the cache knows, the ticket is under the parent
    channel with the thread's id. A thread the cache does not know (discord.py gives a
    PartialMessageable, or nothing) is named as the channel: the core then finds the
    ticket by its thread id (`find_thread_ticket`, `apply_edit`)."""
    parent_id = getattr(channel, "parent_id", None)
    if isinstance(channel, discord.Thread) and parent_id:
        return Place(
            platform=Platform.DISCORD,
            workspace_id=str(guild_id),
            channel_id=str(parent_id),
            thread_id=str(channel.id),
        )
    return Place(platform=Platform.DISCORD, workspace_id=str(guild_id), channel_id=str(channel.id))


def _bot_role_ids(guild: Any, bot_id: int) -> set[int]:
    """The guild's roles managed for the bot (`role.tags.bot_id`), from the client's cache."""
    return {
        role.id
        for role in getattr(guild, "roles", ())
        if role.is_bot_managed() and role.tags is not None and role.tags.bot_id == bot_id
    }


def _addressed(message: discord.Message, bot_id: int) -> tuple[str, bool]:
    """The text without the bot's mentions, and whether it mentions the bot: directly
    (`mentioned_in` is also true for @everyone) or by its managed role, which Discord's
    mention picker often inserts instead."""
    roles = _bot_role_ids(message.guild, bot_id)
    role_tags = [f"<@&{role}>" for role in roles]
    mentioned = (
        any(user.id == bot_id for user in message.mentions)
        or bool(roles.intersection(message.raw_role_mentions))
        or any(tag in message.content for tag in role_tags)
    )
    own = "|".join([rf"<@!?{bot_id}>", *map(re.escape, role_tags)])
    return re.sub(own, "", message.content).strip(), mentioned


def _post_title(message: discord.Message) -> str:
    """The title of the forum post `message` starts (its thread's name), or "".

    A forum post is a thread whose first message has the thread's own id; the title
    is often the question itself, so it leads the ticket's text."""
    channel = message.channel
    if isinstance(channel, discord.Thread) and channel.id == message.id:
        return (channel.name or "").strip()
    return ""


def _spoken(message: discord.Message, bot_id: int) -> tuple[str, bool]:
    """`_addressed`, with a forum post's title on the first line of its text."""
    text, mentioned = _addressed(message, bot_id)
    title = _post_title(message)
    return (f"{title}\n{text}" if title and text else title or text), mentioned


def _ours(message: discord.Message) -> bool:
    """A person's guild message (not a DM, a bot's or a system message)."""
    return (
        message.guild is not None
        and not message.author.bot
        and message.type in (discord.MessageType.default, discord.MessageType.reply)
    )


def from_message(message: discord.Message, bot_id: int) -> MessagePosted | None:
    """A guild message -> MessagePosted; DMs, bots and system messages give None.

    A new forum post's first message is placed in its post (the forum channel, the
    post's thread) with the post's title leading its text; whether it opens a ticket
    without a mention is the core's to decide (the workspace's forum channels).
    """
    if message.guild is None or not _ours(message):
        return None
    text, mentioned = _spoken(message, bot_id)
    return MessagePosted(
        event_id=f"message:{message.id}",
        message_id=str(message.id),
        place=_place(message.guild.id, message.channel),
        author=actor_of(message.author),
        text=text,
        mentions_bot=mentioned,
        posted_at=message.created_at,
        attachments=tuple(a.filename for a in message.attachments),
    )


def from_edit(payload: discord.RawMessageUpdateEvent, bot_id: int) -> MessageEdited | None:
    """An edit of a message `from_message` takes -> MessageEdited, its text and place as
    `from_message` gives them.

    discord.py 2.x parses every MESSAGE_UPDATE into a whole message, link previews
    included: those have no `edited_timestamp`, or (after an earlier edit) that edit's
    stamp and the text the cache already holds. They, and updates without content
    (embeds only, the pre-2024 shape), give None.
    """
    content = payload.data.get("content")
    stamp = payload.data.get("edited_timestamp")
    if content is None or not stamp or payload.guild_id is None:
        return None
    if payload.cached_message is not None and payload.cached_message.content == content:
        return None
    message = payload.message
    if not _ours(message):
        return None
    return MessageEdited(
        event_id=f"edit:{payload.message_id}:{stamp}",
        message_id=str(payload.message_id),
        new_text=_spoken(message, bot_id)[0],
        place=_place(payload.guild_id, message.channel),
    )


def from_delete(payload: discord.RawMessageDeleteEvent, channel: Any) -> MessageDeleted | None:
    """A deleted guild message -> MessageDeleted, placed as `from_message` places it.

    The payload has only ids: `channel` is what the client's cache knows of
    `payload.channel_id` (`client.get_channel`), or None (see `_place`).
    """
    if payload.guild_id is None:
        return None
    if channel is None and payload.cached_message is not None:
        channel = payload.cached_message.channel
    return MessageDeleted(
        event_id=f"delete:{payload.message_id}",
        message_id=str(payload.message_id),
        place=_place(payload.guild_id, channel or discord.Object(payload.channel_id)),
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
    """A press on one of our ticket buttons or selects -> ActionInvoked.

    "Save as answer" is not an event (None): the adapter answers it with a form
    (`save_press`), and the form's submit is the event (`from_modal_submit`).
    """
    data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]
    parsed = parse_custom_id(str(data.get("custom_id", "")))
    if parsed is None or interaction.guild_id is None or interaction.channel is None:
        return None
    verb, ticket_id = parsed
    if verb == TicketAction.SAVE_ANSWER:
        return None
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


def save_press(interaction: discord.Interaction) -> tuple[Actor, Place, int] | None:
    """A press on "Save as answer" -> who pressed it, where, and for which ticket."""
    data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]
    parsed = parse_custom_id(str(data.get("custom_id", "")))
    if parsed is None or parsed[0] != TicketAction.SAVE_ANSWER:
        return None
    if interaction.guild_id is None or interaction.channel is None:
        return None
    place = _place(interaction.guild_id, interaction.channel)
    return actor_of(interaction.user), place, parsed[1]


def form_id(ticket_id: int) -> str:
    """The "Save as answer" form's custom_id, `save-answer:12`, which its submit brings back."""
    return f"{TicketAction.SAVE_ANSWER}:{ticket_id}"


def _form_values(components: Any) -> dict[str, str]:
    """The text inputs' values by custom_id, in action rows (type 1) or labels (18)."""
    values: dict[str, str] = {}
    for component in components if isinstance(components, list) else ():
        if not isinstance(component, Mapping):
            continue
        if component.get("type") == 1:
            values.update(_form_values(component.get("components")))
        elif component.get("type") == 18:
            values.update(_form_values([component.get("component")]))
        elif isinstance(component.get("custom_id"), str) and isinstance(
            component.get("value"), str
        ):
            values[component["custom_id"]] = component["value"]
    return values


def parse_save_form(data: Mapping[str, Any]) -> tuple[int, str, str] | None:
    """A submitted "Save as answer" form's raw ``data`` -> (ticket id, question, answer);
    None for another form, or one without a question or an answer."""
    match = FORM_ID.match(str(data.get("custom_id", "")))
    if match is None:
        log.debug("discord.form.skipped reason=custom_id")
        return None
    values = _form_values(data.get("components"))
    question = values.get(QUESTION_FIELD, "").strip()
    answer = values.get(ANSWER_FIELD, "").strip()
    if not question or not answer:
        log.debug("discord.form.skipped reason=fields")
        return None
    return int(match["ticket"]), question, answer


def from_modal_submit(interaction: discord.Interaction) -> AnswerApproved | None:
    """A submitted "Save as answer" form -> AnswerApproved, with the lead's edits."""
    data: Any = interaction.data
    parsed = parse_save_form(data) if isinstance(data, Mapping) else None
    if parsed is None or interaction.guild_id is None or interaction.channel is None:
        return None
    ticket_id, question, answer = parsed
    return AnswerApproved(
        event_id=f"interaction:{interaction.id}",
        place=_place(interaction.guild_id, interaction.channel),
        actor=actor_of(interaction.user),
        ticket_id=ticket_id,
        question=question,
        answer=answer,
        reply_handle=reply_handle(interaction),
    )
