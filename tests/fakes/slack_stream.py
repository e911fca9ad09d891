"""Streamed messages and reactions of the fake Slack (mixed into `FakeSlack`).

Streaming (slack-sdk 3.48 sends these as JSON bodies): ``chat.startStream`` (channel,
thread_ts, optional markdown_text; outside a DM also recipient_user_id and
recipient_team_id, which Slack requires there) posts a bot message in the thread and
answers its ``ts``; ``chat.appendStream`` (channel, ts, markdown_text) appends to it;
``chat.stopStream`` (channel, ts, optional markdown_text, blocks, metadata) appends
the last text, sets the blocks and ends the stream. Errors are Slack's:
``message_not_found`` (unknown ts), ``message_not_in_streaming_state`` (already
stopped), ``invalid_arguments`` (no thread_ts, or no recipient outside a DM),
``no_text`` (an append without text), ``msg_too_long`` (markdown_text over 12,000
characters), ``channel_not_found``. Tests read `streams[(channel, ts)]` (`SlackStream`: its pieces,
text and state) besides the recorded `calls`.

Reactions: ``reactions.add`` / ``reactions.remove`` (channel, timestamp, name) on any
message, known to the fake or not (a user's message it never stored); errors
``already_reacted``, ``no_reaction``, ``no_item_specified``, ``invalid_name``. Tests
read `reactions[(channel, ts)]`, the names the bot has on that message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.slack_web import json_dict, json_list

__all__ = ["MAX_MARKDOWN", "SlackStream", "StreamMethods"]

MAX_MARKDOWN = 12_000  # characters of markdown_text per call


@dataclass
class SlackStream:
    """One streamed message, as the fake keeps it."""

    channel: str
    ts: str
    thread_ts: str
    pieces: list[str] = field(default_factory=list)
    """Each markdown_text received, start and stop included, in order."""
    recipient_user_id: str | None = None
    recipient_team_id: str | None = None
    stopped: bool = False
    blocks: list[dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        """The message's text so far: every piece joined."""
        return "".join(self.pieces)


def _markdown(params: dict[str, Any]) -> str:
    """markdown_text, plus the text of any ``markdown_text`` chunks."""
    text = str(params.get("markdown_text") or "")
    for chunk in json_list(params.get("chunks")):
        if isinstance(chunk, dict) and chunk.get("type") == "markdown_text":
            text += str(chunk.get("text") or "")
    return text


class StreamMethods:
    """`chat.*Stream` and `reactions.*`; `FakeSlack` supplies the workspace."""

    bot_user_id: str
    bot_id: str
    app_id: str
    team_id: str
    messages: dict[tuple[str, str], dict[str, Any]]
    streams: dict[tuple[str, str], SlackStream]
    reactions: dict[tuple[str, str], list[str]]
    next_ts: Callable[[], str]  # WebApiMethods'

    # --- streaming -------------------------------------------------------------
    def _m_chat_startStream(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, thread_ts = str(params.get("channel") or ""), str(params.get("thread_ts") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        user, team = params.get("recipient_user_id"), params.get("recipient_team_id")
        # Outside a DM Slack needs to know whom the stream is for.
        if not thread_ts or (not channel.startswith("D") and not (user and team)):
            return {"ok": False, "error": "invalid_arguments"}
        ts, text = self.next_ts(), _markdown(params)
        if len(text) > MAX_MARKDOWN:
            return {"ok": False, "error": "msg_too_long"}
        stream = SlackStream(channel, ts, thread_ts, [text] if text else [], user, team)
        self.streams[(channel, ts)] = stream
        self.messages[(channel, ts)] = self._streamed_message(stream)
        return {"ok": True, "channel": channel, "ts": ts}

    def _m_chat_appendStream(self, params: dict[str, Any]) -> dict[str, Any]:
        stream, error = self._open_stream(params)
        if stream is None:
            return {"ok": False, "error": error}
        text = _markdown(params)
        if not text:
            return {"ok": False, "error": "no_text"}
        if len(text) > MAX_MARKDOWN:
            return {"ok": False, "error": "msg_too_long"}
        stream.pieces.append(text)
        self.messages[(stream.channel, stream.ts)] = self._streamed_message(stream)
        return {"ok": True, "channel": stream.channel, "ts": stream.ts}

    def _m_chat_stopStream(self, params: dict[str, Any]) -> dict[str, Any]:
        stream, error = self._open_stream(params)
        if stream is None:
            return {"ok": False, "error": error}
        if text := _markdown(params):
            stream.pieces.append(text)
        if params.get("blocks") is not None:
            stream.blocks = json_list(params["blocks"])
        stream.stopped = True
        message = self._streamed_message(stream)
        if params.get("metadata"):
            message["metadata"] = json_dict(params["metadata"])
        self.messages[(stream.channel, stream.ts)] = message
        return {"ok": True, "channel": stream.channel, "ts": stream.ts, "message": message}

    def _open_stream(self, params: dict[str, Any]) -> tuple[SlackStream | None, str]:
        key = (str(params.get("channel") or ""), str(params.get("ts") or ""))
        stream = self.streams.get(key)
        if stream is None:
            return None, "message_not_found"
        if stream.stopped:
            return None, "message_not_in_streaming_state"
        return stream, ""

    def _streamed_message(self, stream: SlackStream) -> dict[str, Any]:
        message: dict[str, Any] = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": stream.ts,
            "thread_ts": stream.thread_ts,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": stream.text,
            "team": self.team_id,
        }
        if stream.blocks is not None:
            message["blocks"] = stream.blocks
        return message

    # --- reactions -------------------------------------------------------------
    def _m_reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        key, name, error = _reaction_target(params)
        if error:
            return {"ok": False, "error": error}
        names = self.reactions.setdefault(key, [])
        if name in names:
            return {"ok": False, "error": "already_reacted"}
        names.append(name)
        return {"ok": True}

    def _m_reactions_remove(self, params: dict[str, Any]) -> dict[str, Any]:
        key, name, error = _reaction_target(params)
        if error:
            return {"ok": False, "error": error}
        names = self.reactions.get(key, [])
        if name not in names:
            return {"ok": False, "error": "no_reaction"}
        names.remove(name)
        return {"ok": True}


def _reaction_target(params: dict[str, Any]) -> tuple[tuple[str, str], str, str]:
    """The (channel, ts) and emoji name of a reactions call, or Slack's error for it."""
    key = (str(params.get("channel") or ""), str(params.get("timestamp") or ""))
    name = str(params.get("name") or "").strip(":")
    if not all(key):
        return key, name, "no_item_specified"
    if not name:
        return key, name, "invalid_name"
    return key, name, ""
