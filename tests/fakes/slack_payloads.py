"""Builders of what Slack sends to an app (events), plus re-exports of the signing
and interactivity builders from `tests.fakes.slack_interactive`, so tests need one import.

The shapes follow real payloads (bolt-python's scenario tests and Slack's docs): events
come wrapped in `event_envelope`; slash commands and button clicks come form-encoded
(`slash_command_form`, `block_actions_form`); the `*_payload` builders give the same
data as a dict, which is what a Socket Mode envelope carries instead of a form body.

Builders are pure, except where a value defaults to "now" (`action_ts`, `trigger_id`,
`event_time` of an event without timestamps, `app_home_opened`'s `event_ts`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from typing import Any

from tests.fakes.slack_interactive import (
    VECTOR_BODY,
    VECTOR_SECRET,
    VECTOR_SIGNATURE,
    VECTOR_TIMESTAMP,
    VERIFICATION_TOKEN,
    block_actions_form,
    block_actions_payload,
    button_action,
    form_headers,
    json_headers,
    retry_headers,
    select_action,
    sign,
    slash_command_form,
    slash_command_payload,
)

__all__ = [
    "VECTOR_BODY",
    "VECTOR_SECRET",
    "VECTOR_SIGNATURE",
    "VECTOR_TIMESTAMP",
    "VERIFICATION_TOKEN",
    "app_home_opened",
    "app_mention",
    "block_actions_form",
    "block_actions_payload",
    "bot_message",
    "button_action",
    "classic_bot_message",
    "event_envelope",
    "form_headers",
    "json_headers",
    "message",
    "message_changed",
    "message_deleted",
    "retry_headers",
    "rich_text_blocks",
    "select_action",
    "sign",
    "slash_command_form",
    "slash_command_payload",
]

_MENTION = re.compile(r"<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>")


# --- events --------------------------------------------------------------------


def rich_text_blocks(text: str) -> list[dict[str, Any]]:
    """The `rich_text` block Slack attaches to a user's message; mentions become
    `user` elements, as in real events."""
    elements: list[dict[str, Any]] = []
    pos = 0
    for m in _MENTION.finditer(text):
        if m.start() > pos:
            elements.append({"type": "text", "text": text[pos : m.start()]})
        elements.append({"type": "user", "user_id": m.group(1)})
        pos = m.end()
    if pos < len(text):
        elements.append({"type": "text", "text": text[pos:]})
    block_id = hashlib.sha256(text.encode()).hexdigest()[:5]
    section = {"type": "rich_text_section", "elements": elements}
    return [{"type": "rich_text", "block_id": block_id, "elements": [section]}]


def event_envelope(
    event: dict[str, Any],
    *,
    event_id: str,
    team_id: str = "T_ACME",
    api_app_id: str = "A_APP",
    event_time: int | None = None,
    bot_user_id: str = "U_BOT",
) -> dict[str, Any]:
    """Wrap `event` the way the Events API delivers it (`type: event_callback`).

    `event_time` defaults to the event's `event_ts` (else now), as Slack sets it.
    """
    if event_time is None:
        stamp = event.get("event_ts") or event.get("ts")
        event_time = int(float(stamp)) if stamp else int(time.time())
    context = {"et": event.get("type"), "tid": team_id, "aid": api_app_id}
    if event.get("channel"):
        context["cid"] = event["channel"]
    encoded = base64.urlsafe_b64encode(json.dumps(context, separators=(",", ":")).encode())
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + encoded.decode().rstrip("="),
    }


def _thread(event: dict[str, Any], thread_ts: str | None, parent_user_id: str | None) -> None:
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        if parent_user_id is not None:
            event["parent_user_id"] = parent_user_id


def _later(ts: str, seconds: int = 5) -> str:
    whole, _, frac = ts.partition(".")
    return f"{int(whole) + seconds}.{frac or '000000'}"


def app_mention(
    text: str,
    *,
    user: str = "U_ALICE",
    channel: str = "C_HELP",
    ts: str,
    thread_ts: str | None = None,
    bot_user_id: str = "U_BOT",
    team: str = "T_ACME",
    parent_user_id: str | None = None,
) -> dict[str, Any]:
    """An `app_mention` event. `<@bot_user_id> ` is prepended unless `text` has it."""
    if f"<@{bot_user_id}>" not in text:
        text = f"<@{bot_user_id}> {text}"
    event: dict[str, Any] = {
        "client_msg_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{channel}/{ts}")),
        "type": "app_mention",
        "text": text,
        "user": user,
        "ts": ts,
        "blocks": rich_text_blocks(text),
        "team": team,
        "channel": channel,
        "event_ts": ts,
    }
    _thread(event, thread_ts, parent_user_id)
    return event


def message(
    text: str,
    *,
    user: str,
    channel: str,
    ts: str,
    thread_ts: str | None = None,
    channel_type: str = "channel",
    team: str = "T_ACME",
    parent_user_id: str | None = None,
) -> dict[str, Any]:
    """A plain user `message` event (no subtype); `channel_type` "im" for DMs."""
    event: dict[str, Any] = {
        "client_msg_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{channel}/{ts}")),
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "blocks": rich_text_blocks(text),
        "team": team,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    _thread(event, thread_ts, parent_user_id)
    return event


def bot_message(
    text: str,
    *,
    bot_id: str,
    channel: str,
    ts: str,
    thread_ts: str | None = None,
    user: str | None = None,
    app_id: str = "A_OTHER",
    team: str = "T_ACME",
) -> dict[str, Any]:
    """A message from a modern app: `bot_id` + `bot_profile`, no subtype."""
    event: dict[str, Any] = {"bot_id": bot_id, "type": "message", "text": text}
    if user is not None:
        event["user"] = user
    event.update(
        {
            "ts": ts,
            "app_id": app_id,
            "team": team,
            "bot_profile": {
                "id": bot_id,
                "deleted": False,
                "name": "other-app",
                "updated": 1700000000,
                "app_id": app_id,
                "icons": {"image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png"},
                "team_id": team,
            },
            "channel": channel,
            "event_ts": ts,
            "channel_type": "channel",
        }
    )
    _thread(event, thread_ts, None)
    return event


def classic_bot_message(
    text: str,
    *,
    bot_id: str,
    channel: str,
    ts: str,
    thread_ts: str | None = None,
    username: str = "classic-bot",
) -> dict[str, Any]:
    """A message from a classic bot / webhook: `subtype: bot_message`, no user."""
    event: dict[str, Any] = {
        "type": "message",
        "subtype": "bot_message",
        "text": text,
        "ts": ts,
        "username": username,
        "bot_id": bot_id,
        "channel": channel,
        "event_ts": ts,
        "channel_type": "channel",
    }
    _thread(event, thread_ts, None)
    return event


def message_changed(
    channel: str,
    ts: str,
    new_text: str,
    *,
    user: str,
    thread_ts: str | None = None,
    previous_text: str = "...",
    event_ts: str | None = None,
    team: str = "T_ACME",
) -> dict[str, Any]:
    """A `message_changed` event for the message at `ts` (the event has its own,
    later `event_ts`; default `ts` + 5 s)."""
    event_ts = event_ts or _later(ts)
    msg_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{channel}/{ts}"))
    new: dict[str, Any] = {
        "client_msg_id": msg_id,
        "type": "message",
        "text": new_text,
        "user": user,
        "team": team,
        "edited": {"user": user, "ts": event_ts},
        "blocks": rich_text_blocks(new_text),
        "ts": ts,
    }
    old: dict[str, Any] = {
        "client_msg_id": msg_id,
        "type": "message",
        "text": previous_text,
        "user": user,
        "team": team,
        "ts": ts,
        "blocks": rich_text_blocks(previous_text),
    }
    for part in (new, old):
        _thread(part, thread_ts, None)
    return {
        "type": "message",
        "subtype": "message_changed",
        "message": new,
        "previous_message": old,
        "channel": channel,
        "hidden": True,
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": "channel",
    }


def message_deleted(
    channel: str,
    deleted_ts: str,
    *,
    thread_ts: str | None = None,
    previous_text: str = "...",
    user: str = "U_ALICE",
    event_ts: str | None = None,
    team: str = "T_ACME",
) -> dict[str, Any]:
    """A `message_deleted` event for the message at `deleted_ts`."""
    event_ts = event_ts or _later(deleted_ts)
    old: dict[str, Any] = {
        "type": "message",
        "text": previous_text,
        "user": user,
        "team": team,
        "ts": deleted_ts,
    }
    _thread(old, thread_ts, None)
    return {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": old,
        "channel": channel,
        "hidden": True,
        "deleted_ts": deleted_ts,
        "event_ts": event_ts,
        "ts": event_ts,
        "channel_type": "channel",
    }


def app_home_opened(
    user: str, *, channel: str = "D_HOME", tab: str = "home", event_ts: str | None = None
) -> dict[str, Any]:
    """An `app_home_opened` event (`tab` is "home" or "messages")."""
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": channel,
        "tab": tab,
        "event_ts": event_ts or f"{time.time():.6f}",
    }
