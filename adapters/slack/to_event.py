"""Slack payloads -> `bot.events`, as small pure functions picked from a table.

Unknown or malformed payloads give None (the caller acknowledges and skips them);
nothing here raises on a strange payload.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.events import (
    ActionInvoked,
    Actor,
    CommandInvoked,
    CommandName,
    Event,
    HomeOpened,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    Place,
    Platform,
    TicketAction,
)

__all__ = ["SlackIds", "from_block_actions", "from_command", "from_envelope"]

log = logging.getLogger(__name__)

ACTION_PREFIX = "ticket:"
# Message subtypes that are still a person talking.
SPOKEN_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message"}


class SlackIds:
    """Who the bot is and whom it should listen to; filled from `auth.test` and settings."""

    def __init__(
        self,
        *,
        bot_user_id: str = "",
        allowed_bot_ids: tuple[str, ...] = (),
        lead_group_id: str | None = None,
    ) -> None:
        self.bot_user_id = bot_user_id
        self.allowed_bot_ids = allowed_bot_ids
        self.lead_group_id = lead_group_id
        self.lead_group_members: frozenset[str] = frozenset()

    def actor(self, user_id: str, name: str = "", *, is_bot: bool = False) -> Actor:
        """An Actor with the lead group as a role when the user is in it."""
        roles = (
            (self.lead_group_id,)
            if self.lead_group_id and user_id in self.lead_group_members
            else ()
        )
        return Actor(
            platform=Platform.SLACK, user_id=user_id, display_name=name, is_bot=is_bot, roles=roles
        )


def _place(team: str, channel: str, thread_ts: str | None, ts: str | None) -> Place:
    # A reply in a thread carries thread_ts; the parent itself has thread_ts == ts.
    thread = thread_ts if thread_ts and thread_ts != ts else None
    return Place(platform=Platform.SLACK, workspace_id=team, channel_id=channel, thread_id=thread)


def _posted_at(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


def _strip_mention(text: str, bot_user_id: str) -> str:
    return re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", "", text).strip()


def _files(event: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        str(f.get("name") or f.get("id")) for f in event.get("files") or () if isinstance(f, dict)
    )


def _mention(body: dict[str, Any], event: dict[str, Any], ids: SlackIds) -> Event | None:
    ts = event["ts"]
    return MessagePosted(
        event_id=body["event_id"],
        message_id=ts,
        posted_at=_posted_at(ts),
        place=_place(body["team_id"], event["channel"], event.get("thread_ts"), ts),
        author=ids.actor(event["user"]),
        text=_strip_mention(event.get("text") or "", ids.bot_user_id),
        mentions_bot=True,
        attachments=_files(event),
    )


def _is_other_bot(event: dict[str, Any], ids: SlackIds) -> bool:
    bot_id = event.get("bot_id")
    if event.get("subtype") == "bot_message" or bot_id:
        return bot_id not in ids.allowed_bot_ids
    return False


def _message(body: dict[str, Any], event: dict[str, Any], ids: SlackIds) -> Event | None:
    subtype = event.get("subtype")
    if subtype == "message_changed":
        return _changed(body, event)
    if subtype == "message_deleted":
        return MessageDeleted(
            event_id=body["event_id"],
            message_id=event["deleted_ts"],
            place=_place(body["team_id"], event["channel"], None, None),
        )
    if (subtype not in SPOKEN_SUBTYPES and subtype != "bot_message") or _is_other_bot(event, ids):
        return None
    text = event.get("text") or ""
    if ids.bot_user_id and f"<@{ids.bot_user_id}" in text:
        return None  # the app_mention event for this message does the work
    ts = event["ts"]
    author = event.get("user") or event.get("bot_id") or "unknown"
    return MessagePosted(
        event_id=body["event_id"],
        message_id=ts,
        posted_at=_posted_at(ts),
        place=_place(body["team_id"], event["channel"], event.get("thread_ts"), ts),
        author=ids.actor(author, is_bot=bool(event.get("bot_id"))),
        text=text,
        mentions_bot=False,
        attachments=_files(event),
    )


def _changed(body: dict[str, Any], event: dict[str, Any]) -> Event | None:
    message = event.get("message") or {}
    if not message.get("ts"):
        return None
    return MessageEdited(
        event_id=body["event_id"],
        message_id=message["ts"],
        new_text=message.get("text") or "",
        place=_place(body["team_id"], event["channel"], None, None),
    )


def _home(body: dict[str, Any], event: dict[str, Any], ids: SlackIds) -> Event | None:
    if event.get("tab", "home") != "home":
        return None
    return HomeOpened(
        event_id=body["event_id"],
        actor=ids.actor(event["user"]),
        place=_place(body["team_id"], event.get("channel") or "home", None, None),
    )


EVENTS: dict[str, Callable[[dict[str, Any], dict[str, Any], SlackIds], Event | None]] = {
    "app_mention": _mention,
    "message": _message,
    "app_home_opened": _home,
}


def from_envelope(body: dict[str, Any], ids: SlackIds) -> Event | None:
    """An Events API envelope -> an event, or None for what the bot does not handle."""
    try:
        event = body["event"]
        handler = EVENTS.get(event.get("type"))
        return handler(body, event, ids) if handler else None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.debug("slack.payload.skipped reason=%s", type(exc).__name__)
        return None


def from_command(body: dict[str, Any], ids: SlackIds) -> CommandInvoked | None:
    """A `/support ...` slash command -> CommandInvoked; unknown words mean `help`."""
    try:
        words = str(body.get("text") or "").split()
        known = bool(words) and words[0].lower() in set(CommandName)
        name = CommandName(words[0].lower()) if known else CommandName.HELP
        args = tuple(words[1:]) if known else ()
        return CommandInvoked(
            event_id=f"command:{body['trigger_id']}",
            name=name,
            args=args,
            place=_place(body["team_id"], body["channel_id"], body.get("thread_ts"), None),
            actor=ids.actor(body["user_id"], str(body.get("user_name") or "")),
            reply_handle=body.get("response_url"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        log.debug("slack.command.skipped reason=%s", type(exc).__name__)
        return None


def _one_action(body: dict[str, Any], action: dict[str, Any], ids: SlackIds) -> ActionInvoked:
    verb = action["action_id"].removeprefix(ACTION_PREFIX)
    if verb.startswith(TicketAction.RECLASSIFY):
        ticket, _, value = action["selected_option"]["value"].partition(":")
        verb, raw_ticket = TicketAction.RECLASSIFY, ticket
    else:
        raw_ticket, value = action["value"], None
    container = body.get("container") or {}
    user = body["user"]
    return ActionInvoked(
        event_id=f"action:{body.get('trigger_id') or action.get('action_ts')}:{verb}",
        action=verb,
        ticket_id=int(raw_ticket),
        value=value,  # type: ignore[arg-type]
        place=_place(
            body["team"]["id"] if body.get("team") else user.get("team_id", ""),
            container.get("channel_id") or body["channel"]["id"],
            container.get("thread_ts"),
            container.get("message_ts"),
        ),
        actor=ids.actor(user["id"], str(user.get("name") or user.get("username") or "")),
        reply_handle=body.get("response_url"),
    )


def from_block_actions(body: dict[str, Any], ids: SlackIds) -> list[ActionInvoked]:
    """Button presses and select picks on ticket cards -> ActionInvoked events."""
    events = []
    for action in body.get("actions") or ():
        try:
            if str(action.get("action_id", "")).startswith(ACTION_PREFIX):
                events.append(_one_action(body, action, ids))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.debug("slack.action.skipped reason=%s", type(exc).__name__)
    return events
