"""Slack's libraries never write a request body (message text) to the logs above DEBUG."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.ops.logs import configure_logging

MARKER = "CANARY-90d2e1"
CANARY = f"{MARKER} my message text"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _app() -> AsyncApp:
    # An AsyncApp makes no network call when built; a forged request never reaches one.
    return AsyncApp(token="xoxb-not-a-real-token", signing_secret="not-the-real-signing-secret")


def _forged(body: str, content_type: str) -> AsyncBoltRequest:
    headers = {
        "content-type": [content_type],
        "x-slack-request-timestamp": [str(int(time.time()))],
        "x-slack-signature": [
            "v0=0000000000000000000000000000000000000000000000000000000000000000"
        ],
    }
    return AsyncBoltRequest(body=body, headers=headers)


def _requests() -> list[AsyncBoltRequest]:
    event = {
        "type": "event_callback",
        "team_id": "T_ACME",
        "event": {"type": "app_mention", "user": "U_ALICE", "text": f"<@UBOT> {CANARY}"},
    }
    command = {"command": "/support", "text": CANARY, "team_id": "T_ACME", "user_id": "U_ALICE"}
    return [
        _forged(json.dumps(event), "application/json"),
        _forged(urlencode(command), "application/x-www-form-urlencoded"),
    ]


@pytest.mark.parametrize("fmt", ["json", "text"])
async def test_a_forged_request_body_is_not_logged_at_info(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.getLogger().setLevel(logging.INFO)
    built_before = _app()  # its loggers copied the root level when it was made
    configure_logging("INFO", fmt)
    built_after = _app()
    for app in (built_before, built_after):
        for request in _requests():
            response = await app.async_dispatch(request)
            assert response.status == 401
    logging.getLogger("supportbot.test").info("still.logging")
    err = capsys.readouterr().err
    assert "still.logging" in err
    assert MARKER not in err


async def test_at_debug_the_libraries_may_say_more(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG", "text")
    app = _app()
    assert (await app.async_dispatch(_requests()[0])).status == 401
    assert "Invalid request signature" in capsys.readouterr().err
