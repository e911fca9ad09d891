"""Slack payloads -> `bot.events`, as small pure functions picked from a table.

Unknown or malformed payloads give None (the caller acknowledges and skips them);
nothing here raises on a strange payload. So do payloads from a team the bot does not
serve, and other bots' messages and mentions unless their bot id is allowed (two bots
must not ping each other in a loop). The workspace of every event is the team Bolt
authorizes (`identity.workspace_of`), so a Slack Connect guest's reply lands in the
host team's ticket.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.slack.forms import read_form
from adapters.slack.identity import SlackIds, workspace_of
from bot.events import (
    ActionInvoked,
    Actor,
    AnswerApproved,
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

__all__ = [
    "SAVE_ANSWER_ACTION",
    "SaveAnswerClick",
    "SlackIds",
    "from_block_actions",
    "from_command",
    "from_envelope",
    "from_view_submission",
    "save_answer_click",
]

log = logging.getLogger(__name__)

ACTION_PREFIX = "ticket:"
# Opens a form instead of becoming an ActionInvoked: the lead edits the Q&A first.
SAVE_ANSWER_ACTION = f"{ACTION_PREFIX}{TicketAction.SAVE_ANSWER}"
# Message subtypes that are still someone talking (`bot_message`: a classic bot).
SPOKEN_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message", "bot_message"}
# Mentions that are not a message to answer: the bot named in a canvas.
SKIPPED_MENTIONS = {"document_mention"}


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


def _bot_of(event: dict[str, Any]) -> str | None:
    """The sending bot's id: `bot_id`, `bot_profile.id`, or "" for an unnamed classic bot."""
    profile = event.get("bot_profile")
    bot_id = event.get("bot_id") or (profile.get("id") if isinstance(profile, dict) else None)
    if bot_id:
        return str(bot_id)
    return "" if event.get("subtype") == "bot_message" or profile is not None else None


def _posted(
    body: dict[str, Any], event: dict[str, Any], ids: SlackIds, *, mention: bool
) -> Event | None:
    bot = _bot_of(event)
    user = event.get("user")
    if (bot is not None and bot not in ids.allowed_bot_ids) or (
        ids.bot_user_id and user == ids.bot_user_id
    ):
        return None  # another bot (unless allowed), or the bot itself
    text = event.get("text") or ""
    if not mention and ids.bot_user_id and f"<@{ids.bot_user_id}" in text:
        return None  # the app_mention event for this message does the work
    ts = event["ts"]
    return MessagePosted(
        event_id=body["event_id"],
        message_id=ts,
        posted_at=_posted_at(ts),
        place=_place(workspace_of(body), event["channel"], event.get("thread_ts"), ts),
        author=ids.actor(str(user or bot or "unknown"), is_bot=bot is not None),
        text=_strip_mention(text, ids.bot_user_id) if mention else text,
        mentions_bot=mention,
        attachments=_files(event),
    )


def _mention(body: dict[str, Any], event: dict[str, Any], ids: SlackIds) -> Event | None:
    subtype = event.get("subtype")
    if subtype in SKIPPED_MENTIONS or subtype not in SPOKEN_SUBTYPES:
        return None
    return _posted(body, event, ids, mention=True)


def _message(body: dict[str, Any], event: dict[str, Any], ids: SlackIds) -> Event | None:
    subtype = event.get("subtype")
    if subtype == "message_changed":
        return _changed(body, event)
    if subtype == "message_deleted":
        return _deleted(body, event["channel"], event["deleted_ts"])
    if subtype not in SPOKEN_SUBTYPES:
        return None
    return _posted(body, event, ids, mention=False)


def _deleted(body: dict[str, Any], channel: str, ts: str) -> Event:
    return MessageDeleted(
        event_id=body["event_id"],
        message_id=ts,
        place=_place(workspace_of(body), channel, None, None),
    )


def _changed(body: dict[str, Any], event: dict[str, Any]) -> Event | None:
    message = event.get("message") or {}
    if not message.get("ts"):
        return None
    if message.get("subtype") == "tombstone":
        # A deleted message that has replies stays as "This message was deleted."
        return _deleted(body, event["channel"], message["ts"])
    return MessageEdited(
        event_id=body["event_id"],
        message_id=message["ts"],
        new_text=message.get("text") or "",
        place=_place(workspace_of(body), event["channel"], None, None),
    )


def _home(body: dict[str, Any], event: dict[str, Any], ids: SlackIds) -> Event | None:
    if event.get("tab", "home") != "home":
        return None
    return HomeOpened(
        event_id=body["event_id"],
        actor=ids.actor(event["user"]),
        place=_place(workspace_of(body), event.get("channel") or "home", None, None),
    )


EVENTS: dict[str, Callable[[dict[str, Any], dict[str, Any], SlackIds], Event | None]] = {
    "app_mention": _mention,
    "message": _message,
    "app_home_opened": _home,
}


def from_envelope(body: dict[str, Any], ids: SlackIds) -> Event | None:
    """An Events API envelope -> an event, or None for what the bot does not handle."""
    try:
        if not ids.serves(body):
            log.info("slack.team.not_served")
            return None
        event = body["event"]
        handler = EVENTS.get(event.get("type"))
        return handler(body, event, ids) if handler else None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.debug("slack.payload.skipped reason=%s", type(exc).__name__)
        return None


def from_command(body: dict[str, Any], ids: SlackIds) -> CommandInvoked | None:
    """A `/support ...` slash command -> CommandInvoked; unknown words mean `help`."""
    try:
        if not ids.serves(body):
            return None
        words = str(body.get("text") or "").split()
        known = bool(words) and words[0].lower() in set(CommandName)
        name = CommandName(words[0].lower()) if known else CommandName.HELP
        args = tuple(words[1:]) if known else ()
        return CommandInvoked(
            event_id=f"command:{body['trigger_id']}",
            name=name,
            args=args,
            place=_place(workspace_of(body), body["channel_id"], body.get("thread_ts"), None),
            actor=ids.actor(body["user_id"], str(body.get("user_name") or "")),
            reply_handle=body.get("response_url"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        log.debug("slack.command.skipped reason=%s", type(exc).__name__)
        return None


def _person(user: dict[str, Any], ids: SlackIds) -> Actor:
    return ids.actor(user["id"], str(user.get("name") or user.get("username") or ""))


def _clicked(body: dict[str, Any], ids: SlackIds) -> tuple[Actor, Place]:
    """Who clicked a button on a message, and the conversation of that message."""
    container = body.get("container") or {}
    place = _place(
        workspace_of(body),
        container.get("channel_id") or body["channel"]["id"],
        container.get("thread_ts"),
        container.get("message_ts"),
    )
    return _person(body["user"], ids), place


def _one_action(body: dict[str, Any], action: dict[str, Any], ids: SlackIds) -> ActionInvoked:
    verb = action["action_id"].removeprefix(ACTION_PREFIX)
    if verb.startswith(TicketAction.RECLASSIFY):
        ticket, _, value = action["selected_option"]["value"].partition(":")
        verb, raw_ticket = TicketAction.RECLASSIFY, ticket
    else:
        raw_ticket, value = action["value"], None
    actor, place = _clicked(body, ids)
    return ActionInvoked(
        event_id=f"action:{body.get('trigger_id') or action.get('action_ts')}:{verb}",
        action=verb,
        ticket_id=int(raw_ticket),
        value=value,  # type: ignore[arg-type]
        place=place,
        actor=actor,
        reply_handle=body.get("response_url"),
    )


def from_block_actions(body: dict[str, Any], ids: SlackIds) -> list[ActionInvoked]:
    """Button presses and select picks on ticket cards -> ActionInvoked events
    (all but "Save as answer", which opens a form: `save_answer_click`)."""
    events: list[ActionInvoked] = []
    if not ids.serves(body):
        return events
    for action in body.get("actions") or ():
        try:
            action_id = str(action.get("action_id", ""))
            if action_id.startswith(ACTION_PREFIX) and action_id != SAVE_ANSWER_ACTION:
                events.append(_one_action(body, action, ids))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.debug("slack.action.skipped reason=%s", type(exc).__name__)
    return events


@dataclass(frozen=True)
class SaveAnswerClick:
    """A click on "Save as answer"; its `trigger_id` opens a form for 3 seconds."""

    actor: Actor
    place: Place
    ticket_id: int
    trigger_id: str
    reply_handle: str | None = None


def save_answer_click(body: dict[str, Any], ids: SlackIds) -> SaveAnswerClick | None:
    """The "Save as answer" click in a `block_actions` payload; None if there is none."""
    try:
        if not ids.serves(body) or not isinstance(body.get("trigger_id"), str):
            return None
        action = next(a for a in body["actions"] if a.get("action_id") == SAVE_ANSWER_ACTION)
        actor, place = _clicked(body, ids)
        return SaveAnswerClick(
            actor=actor,
            place=place,
            ticket_id=int(action["value"]),
            trigger_id=body["trigger_id"],
            reply_handle=body.get("response_url"),
        )
    except (KeyError, TypeError, ValueError, AttributeError, StopIteration) as exc:
        log.debug("slack.save_answer.skipped reason=%s", type(exc).__name__)
        return None


def from_view_submission(body: dict[str, Any], ids: SlackIds) -> AnswerApproved | None:
    """A submitted "Save as answer" form -> AnswerApproved; None if it cannot be read
    (another form, a field missing or empty, another team)."""
    try:
        form = read_form(body["view"])
        if form is None or not ids.serves(body):
            return None
        return AnswerApproved(
            event_id=f"view:{form.submission}",
            place=_place(workspace_of(body), form.channel_id, form.thread_id, None),
            actor=_person(body["user"], ids),
            ticket_id=form.ticket_id,
            question=form.question,
            answer=form.answer,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.debug("slack.view.skipped reason=%s", type(exc).__name__)
        return None
