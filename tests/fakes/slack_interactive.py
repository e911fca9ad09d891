"""Slack's request signing, and the form bodies of slash commands, clicks and modals.

`sign` / `json_headers` / `form_headers` make the headers Slack adds to HTTP deliveries;
the `VECTOR_*` constants are Slack's published test vector. The `*_payload` builders
give a slash command, `block_actions` or `view_submission` payload as a dict (what a
Socket Mode envelope carries); the `*_form` builders give the urlencoded body Slack
POSTs over HTTP. All but the `view_submission` ones are re-exported by
`tests.fakes.slack_payloads`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import quote, urlencode

VERIFICATION_TOKEN = "verification-token"  # the legacy token Slack still puts in payloads

# Slack's published signing test vector (python-slack-sdk's signature verifier tests).
VECTOR_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
VECTOR_TIMESTAMP = 1531420618
VECTOR_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    "&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    "&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
    "commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
VECTOR_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

# --- signing -------------------------------------------------------------------


def sign(secret: str, body: bytes | str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's signature headers for `body`: HMAC-SHA256 of ``v0:{ts}:{body}``.

    Returns only `X-Slack-Request-Timestamp` and `X-Slack-Signature`; see
    `json_headers` / `form_headers` for complete request headers.
    """
    ts = int(time.time()) if timestamp is None else int(timestamp)
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), b"v0:%d:" % ts + raw, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def json_headers(secret: str, body: bytes | str, timestamp: int | None = None) -> dict[str, str]:
    """Signed headers for a JSON body (Events API deliveries)."""
    return {"Content-Type": "application/json", **sign(secret, body, timestamp)}


def form_headers(secret: str, body: bytes | str, timestamp: int | None = None) -> dict[str, str]:
    """Signed headers for a form-encoded body (slash commands, interactivity)."""
    return {"Content-Type": "application/x-www-form-urlencoded", **sign(secret, body, timestamp)}


def retry_headers(num: int, reason: str = "http_timeout") -> dict[str, str]:
    """The headers Slack adds when it redelivers an event over HTTP."""
    return {"X-Slack-Retry-Num": str(num), "X-Slack-Retry-Reason": reason}


# --- slash commands and interactivity ----------------------------------------


def _trigger_id() -> str:
    return f"{int(time.time())}.4744562912.{uuid.uuid4().hex}"


def slash_command_payload(
    text: str,
    *,
    user_id: str = "U_ALICE",
    channel_id: str = "C_HELP",
    command: str = "/support",
    response_url: str,
    trigger_id: str | None = None,
    team_id: str = "T_ACME",
    thread_ts: str | None = None,
    user_name: str = "alice",
    channel_name: str = "help",
) -> dict[str, str]:
    """The fields of a slash command (also the Socket Mode `slash_commands` payload)."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": "acme",
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": "A_APP",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _trigger_id(),
    }
    if thread_ts is not None:
        fields["thread_ts"] = thread_ts
    return fields


def slash_command_form(
    text: str,
    *,
    user_id: str = "U_ALICE",
    channel_id: str = "C_HELP",
    command: str = "/support",
    response_url: str,
    trigger_id: str | None = None,
    team_id: str = "T_ACME",
    thread_ts: str | None = None,
) -> str:
    """The urlencoded body Slack POSTs for a slash command (`thread_ts` only if given)."""
    payload = slash_command_payload(
        text,
        user_id=user_id,
        channel_id=channel_id,
        command=command,
        response_url=response_url,
        trigger_id=trigger_id,
        team_id=team_id,
        thread_ts=thread_ts,
    )
    return urlencode(payload)


def button_action(action_id: str, value: str, *, block_id: str = "b") -> dict[str, Any]:
    """One clicked `button` as it appears in `actions[]`."""
    return {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": "Button", "emoji": True},
        "value": value,
        "type": "button",
        "action_ts": f"{time.time():.6f}",
    }


def select_action(action_id: str, value: str, *, block_id: str = "b") -> dict[str, Any]:
    """One chosen `static_select` option as it appears in `actions[]`."""
    return {
        "type": "static_select",
        "action_id": action_id,
        "block_id": block_id,
        "selected_option": {
            "text": {"type": "plain_text", "text": value, "emoji": True},
            "value": value,
        },
        "placeholder": {"type": "plain_text", "text": "Choose", "emoji": True},
        "action_ts": f"{time.time():.6f}",
    }


def block_actions_payload(
    actions: list[dict[str, Any]],
    *,
    user_id: str = "U_ALICE",
    channel_id: str = "C_HELP",
    message_ts: str,
    response_url: str,
    trigger_id: str | None = None,
    thread_ts: str | None = None,
    team_id: str = "T_ACME",
    message_text: str = "",
    bot_user_id: str = "U_BOT",
    bot_id: str = "B_BOT",
) -> dict[str, Any]:
    """A `block_actions` payload for a click on a message the bot posted
    (also the Socket Mode `interactive` payload)."""
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": False,
    }
    msg: dict[str, Any] = {
        "type": "message",
        "user": bot_user_id,
        "bot_id": bot_id,
        "app_id": "A_APP",
        "text": message_text,
        "team": team_id,
        "ts": message_ts,
        "blocks": [],
    }
    if thread_ts is not None:
        container["thread_ts"] = thread_ts
        msg["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": "alice", "name": "alice", "team_id": team_id},
        "api_app_id": "A_APP",
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id or _trigger_id(),
        "team": {"id": team_id, "domain": "acme"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "help"},
        "message": msg,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": actions,
    }


def block_actions_form(
    actions: list[dict[str, Any]],
    *,
    user_id: str = "U_ALICE",
    channel_id: str = "C_HELP",
    message_ts: str,
    response_url: str,
    trigger_id: str | None = None,
    thread_ts: str | None = None,
    team_id: str = "T_ACME",
) -> str:
    """The body Slack POSTs for a click: ``payload=<urlencoded JSON>``."""
    payload = block_actions_payload(
        actions,
        user_id=user_id,
        channel_id=channel_id,
        message_ts=message_ts,
        response_url=response_url,
        trigger_id=trigger_id,
        thread_ts=thread_ts,
        team_id=team_id,
    )
    return "payload=" + quote(json.dumps(payload))


def view_submission_payload(
    view: dict[str, Any],
    values: dict[str, dict[str, str]],
    *,
    user_id: str = "U_ALICE",
    team_id: str = "T_ACME",
) -> dict[str, Any]:
    """A `view_submission` of a modal as `views.open` answered it (`FakeSlack.modals`),
    with `values` typed in: ``{block_id: {action_id: text}}`` for plain-text inputs."""
    state = {
        block: {action: {"type": "plain_text_input", "value": text} for action, text in got.items()}
        for block, got in values.items()
    }
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "acme"},
        "user": {"id": user_id, "username": "alice", "name": "alice", "team_id": team_id},
        "api_app_id": "A_APP",
        "token": VERIFICATION_TOKEN,
        "trigger_id": _trigger_id(),
        "view": {**view, "state": {"values": state}},
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_submission_form(view: dict[str, Any], values: dict[str, dict[str, str]], **kw: str) -> str:
    """The body Slack POSTs for a submitted modal: ``payload=<urlencoded JSON>``."""
    return "payload=" + quote(json.dumps(view_submission_payload(view, values, **kw)))
