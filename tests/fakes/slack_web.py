"""The Web API methods of the fake Slack (mixed into `FakeSlack`).

Each ``_m_<method with dots as underscores>`` takes the request's parameters and
returns the JSON body to send with status 200. Errors use Slack's own error codes:
`no_text`, `invalid_blocks` (more than 50 blocks), `message_not_found`,
`cant_update_message`, `no_such_subteam`, `invalid_arguments` (views over 100 blocks),
`invalid_trigger_id` (views.open without one).
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from typing import Any

from tests.fakes.slack_socket import SocketModeHub

__all__ = ["MAX_MESSAGE_BLOCKS", "MAX_VIEW_BLOCKS", "OK_ONLY", "WebApiMethods"]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
OK_ONLY = {"api.test"}  # answered {"ok": true}


def json_list(value: Any) -> list[Any]:
    """`value` as a list, parsing a JSON string (form-encoded `blocks`); [] otherwise."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return value if isinstance(value, list) else []


def json_dict(value: Any) -> dict[str, Any] | None:
    """`value` as a dict, parsing a JSON string (form-encoded `view`); None otherwise."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


class WebApiMethods:
    """Workspace state and the implemented Web API methods."""

    team_id: str
    bot_user_id: str
    bot_id: str
    app_id: str
    root_url: str
    hub: SocketModeHub
    messages: dict[tuple[str, str], dict[str, Any]]
    home_views: dict[str, dict[str, Any]]
    modals: list[dict[str, Any]]
    usergroup_members: dict[str, list[str]]
    _ts: itertools.count[int]

    def next_ts(self) -> str:
        """A new message ts, later than every one handed out before."""
        n = next(self._ts)
        return f"{1700000500 + n}.{n % 1000000:06d}"

    def _m_auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://acme.slack.com/",
            "team": "Acme",
            "user": "supportbot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _m_apps_connections_open(self, _: dict[str, Any]) -> dict[str, Any]:
        ws_root = self.root_url.replace("http://", "ws://", 1)
        return {"ok": True, "url": f"{ws_root}/link/?ticket={self.hub.new_ticket()}"}

    def _message_error(self, params: dict[str, Any]) -> str | None:
        if not params.get("channel"):
            return "channel_not_found"
        blocks = params.get("blocks")
        if blocks is not None and len(json_list(blocks)) > MAX_MESSAGE_BLOCKS:
            return "invalid_blocks"
        if not (params.get("text") or blocks or params.get("attachments")):
            return "no_text"
        return None

    def _bot_message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": params.get("text", ""),
            "team": self.team_id,
        }
        for key in ("thread_ts", "metadata"):
            if params.get(key):
                msg[key] = json_dict(params[key]) if key == "metadata" else params[key]
        if params.get("blocks") is not None:
            msg["blocks"] = json_list(params["blocks"])
        return msg

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        error = self._message_error(params)
        if error:
            return {"ok": False, "error": error}
        channel, ts = str(params["channel"]), self.next_ts()
        msg = self._bot_message(params, ts)
        self.messages[(channel, ts)] = msg
        return {"ok": True, "channel": channel, "ts": ts, "message": msg}

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (str(params.get("channel", "")), str(params.get("ts", "")))
        old = self.messages.get(key)
        if old is None:
            return {"ok": False, "error": "message_not_found"}
        if old.get("user") not in (None, self.bot_user_id) and old.get("bot_id") != self.bot_id:
            return {"ok": False, "error": "cant_update_message"}
        error = self._message_error({**params, "text": params.get("text") or old.get("text")})
        if error:
            return {"ok": False, "error": error}
        msg = {**old, **self._bot_message({**old, **params}, key[1])}
        msg["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        self.messages[key] = msg
        text = msg.get("text", "")
        return {"ok": True, "channel": key[0], "ts": key[1], "text": text, "message": msg}

    def _m_chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (str(params.get("channel", "")), str(params.get("ts", "")))
        if self.messages.pop(key, None) is None:
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("user"):
            return {"ok": False, "error": "user_not_found"}
        error = self._message_error(params)
        if error:
            return {"ok": False, "error": error}
        return {"ok": True, "message_ts": self.next_ts()}

    def _view(self, view: dict[str, Any]) -> dict[str, Any]:
        """The view as Slack stores and answers it: with an id, a hash and empty state."""
        view_id = "V" + uuid.uuid4().hex[:10].upper()
        return {
            **{k: view.get(k, "") for k in ("private_metadata", "callback_id", "external_id")},
            **dict.fromkeys(("close", "submit", "previous_view_id")),
            **dict.fromkeys(("clear_on_close", "notify_on_close"), False),
            **{k: view[k] for k in ("title", "submit", "close") if k in view},
            "id": view_id,
            "root_view_id": view_id,
            "team_id": self.team_id,
            "app_installed_team_id": self.team_id,
            "type": view.get("type"),
            "blocks": json_list(view.get("blocks")),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "app_id": self.app_id,
            "bot_id": self.bot_id,
        }

    def _m_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id, view = params.get("user_id"), json_dict(params.get("view"))
        if not user_id or view is None or view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        if len(json_list(view.get("blocks"))) > MAX_VIEW_BLOCKS:
            return {"ok": False, "error": "invalid_arguments"}
        title = {"type": "plain_text", "text": "View Title", "emoji": True}
        published = {**self._view(view), "title": title}
        self.home_views[str(user_id)] = published
        return {"ok": True, "view": published}

    def _m_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        """A modal opened from a trigger; recorded in `modals` as Slack answers it."""
        view = json_dict(params.get("view"))
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        if view is None or view.get("type") != "modal" or not view.get("title"):
            return {"ok": False, "error": "invalid_arguments"}
        if not 0 < len(json_list(view.get("blocks"))) <= MAX_VIEW_BLOCKS:
            return {"ok": False, "error": "invalid_arguments"}
        opened = self._view(view)
        self.modals.append(opened)
        return {"ok": True, "view": opened}

    def _m_usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = params.get("usergroup")
        if group not in self.usergroup_members:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.usergroup_members[group])}

    def _m_conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = str(params.get("channel", ""))
        if not cid:
            return {"ok": False, "error": "channel_not_found"}
        is_im = cid.startswith("D")
        name = None if is_im else cid.lower().removeprefix("c_")
        info = {"id": cid, "name": name, "is_channel": not is_im, "is_im": is_im}
        return {"ok": True, "channel": {**info, "is_private": False, "is_archived": False}}

    def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        uid = str(params.get("user", ""))
        if not uid:
            return {"ok": False, "error": "user_not_found"}
        name = uid.lower().removeprefix("u_")
        profile = {"display_name": name, "real_name": name.title()}
        user = {"id": uid, "team_id": self.team_id, "name": name, "real_name": name.title()}
        user.update({"is_bot": uid == self.bot_user_id, "tz": "UTC", "profile": profile})
        return {"ok": True, "user": user}
