"""The fake Slack, driven by the real slack_sdk and slack_bolt clients."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes import slack_payloads as sp
from tests.fakes.slack import FakeSlack

SECRET = "test-signing-secret"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as running:
        yield running


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)


# --- Web API ---------------------------------------------------------------------


async def test_auth_test_reports_the_bot_ids(fake: FakeSlack, client: AsyncWebClient) -> None:
    response = await client.auth_test()
    assert response["team_id"] == "T_ACME"
    assert (response["user_id"], response["bot_id"]) == ("U_BOT", "B_BOT")
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert fake.calls_to("auth.test")[0].headers["Authorization"] == "Bearer xoxb-test-token"


async def test_post_then_update_changes_the_stored_message(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Ticket* open"}}]
    first = await client.chat_postMessage(
        channel="C_HELP", text="Ticket open", blocks=blocks, thread_ts="1700000000.000100"
    )
    second = await client.chat_postMessage(channel="C_HELP", text="another")
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["user"] == "U_BOT"
    assert first["message"]["bot_id"] == "B_BOT"
    assert first["message"]["thread_ts"] == "1700000000.000100"
    assert fake.calls_to("chat.postMessage")[0].blocks == blocks

    key = ("C_HELP", first["ts"])
    assert fake.messages[key]["text"] == "Ticket open"
    updated = await client.chat_update(channel="C_HELP", ts=first["ts"], text="Ticket closed")
    assert (updated["ts"], updated["text"]) == (first["ts"], "Ticket closed")
    assert fake.messages[key]["text"] == "Ticket closed"
    assert fake.messages[key]["blocks"] == blocks  # blocks kept when not replaced

    with pytest.raises(SlackApiError) as missing:
        await client.chat_update(channel="C_HELP", ts="1.000000", text="x")
    assert missing.value.response["error"] == "message_not_found"


async def test_post_message_validates_like_slack(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as no_text, pytest.warns(UserWarning, match="`text`"):
        await client.chat_postMessage(channel="C_HELP")
    assert no_text.value.response["error"] == "no_text"
    too_many = [{"type": "divider"}] * 51
    with pytest.raises(SlackApiError) as blocks:
        await client.chat_postMessage(channel="C_HELP", text="x", blocks=too_many)
    assert blocks.value.response["error"] == "invalid_blocks"


async def test_post_ephemeral(fake: FakeSlack, client: AsyncWebClient) -> None:
    response = await client.chat_postEphemeral(channel="C_HELP", user="U_ALICE", text="psst")
    assert response["message_ts"]
    assert fake.calls_to("chat.postEphemeral")[0].params["user"] == "U_ALICE"
    assert fake.messages == {}


async def test_views_publish(fake: FakeSlack, client: AsyncWebClient) -> None:
    view = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    response = await client.views_publish(user_id="U_ALICE", view=view)
    assert response["view"]["type"] == "home"
    assert response["view"]["id"].startswith("V")
    assert response["view"]["blocks"] == view["blocks"]
    assert fake.home_views["U_ALICE"]["id"] == response["view"]["id"]


async def test_wrong_token_is_invalid_auth(fake: FakeSlack) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=fake.base_url)
    with pytest.raises(SlackApiError) as caught:
        await wrong.chat_postMessage(channel="C_HELP", text="hi")
    assert caught.value.response["error"] == "invalid_auth"
    assert len(fake.calls) == 1  # failed calls are recorded too
    app_token_as_bot = AsyncWebClient(token=fake.app_token, base_url=fake.base_url)
    with pytest.raises(SlackApiError):
        await app_token_as_bot.auth_test()


async def test_rate_limit_then_retry_handler_waits_retry_after(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.rate_limit("chat.postMessage", retry_after=1)
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C_HELP", text="hi")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "1"
    assert caught.value.response["error"] == "ratelimited"
    await client.chat_postMessage(channel="C_HELP", text="hi")  # only once

    fake.rate_limit("chat.postMessage", retry_after=1)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    response = await client.chat_postMessage(channel="C_HELP", text="again")
    assert response["ok"]
    limited, retried = fake.calls_to("chat.postMessage")[-2:]
    assert retried.at - limited.at >= 1.0


async def test_fail_is_scripted_per_method(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.fail("chat.postMessage", "not_in_channel", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel="C_HELP", text="hi")
        assert caught.value.response["error"] == "not_in_channel"
    assert (await client.chat_postMessage(channel="C_HELP", text="hi"))["ok"]
    fake.fail("views.publish")
    with pytest.raises(SlackApiError) as default:
        await client.views_publish(user_id="U_ALICE", view={"type": "home", "blocks": []})
    assert default.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as unknown:
        await client.api_call("no.such.method")
    assert unknown.value.response["error"] == "unknown_method"


async def test_usergroup_members(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.usergroup_members["S_ONCALL"] = ["U_BOB", "U_CAROL"]
    response = await client.usergroups_users_list(usergroup="S_ONCALL")
    assert response["users"] == ["U_BOB", "U_CAROL"]
    assert fake.calls_to("usergroups.users.list")[0].params["usergroup"] == "S_ONCALL"
    with pytest.raises(SlackApiError) as caught:
        await client.usergroups_users_list(usergroup="S_NONE")
    assert caught.value.response["error"] == "no_such_subteam"


async def test_response_url_posts_are_recorded(fake: FakeSlack) -> None:
    url = fake.new_response_url()
    response = await AsyncWebhookClient(url).send(text="Ticket #1 opened", replace_original=False)
    assert (response.status_code, response.body) == (200, "ok")
    rid = url.rsplit("/", 1)[1]
    assert fake.response_posts[rid] == [{"text": "Ticket #1 opened", "replace_original": False}]
    assert fake.calls_to("response_url")[0].params["text"] == "Ticket #1 opened"


# --- Socket Mode -------------------------------------------------------------------


async def test_socket_mode_client_receives_and_acks(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    socket = SocketModeClient(app_token=fake.app_token, web_client=client)
    received: list[SocketModeRequest] = []

    async def listener(sm: Any, req: SocketModeRequest) -> None:
        received.append(req)
        await sm.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

    socket.socket_mode_request_listeners.append(listener)
    try:
        await socket.connect()
        await fake.wait_socket_connected()
        assert fake.socket_connections == 1
        assert (
            fake.calls_to("apps.connections.open")[0]
            .headers["Authorization"]
            .endswith(fake.app_token)
        )
        assert fake.hub.sent == []
        envelope = sp.event_envelope(sp.app_mention("help", ts="1700000000.000100"), event_id="Ev1")
        env_id = await fake.socket_send(
            "events_api", envelope, retry_attempt=1, retry_reason="timeout"
        )
        ack = await fake.wait_ack(env_id)
        assert ack == {"envelope_id": env_id}
        assert received[0].payload["event"]["type"] == "app_mention"
        assert (received[0].retry_attempt, received[0].retry_reason) == (1, "timeout")
        assert fake.hub.received[0] == ack
        await _eventually(
            lambda: socket.last_ping_pong_time is not None
        )  # the SDK's ping got a pong

        await fake.socket_disconnect()  # Slack's periodic "disconnect": the SDK reconnects
        await _eventually(lambda: fake.socket_connections == 2 and fake.hub.open_count == 1)
        assert len(fake.calls_to("apps.connections.open")) == 2
        env_id = await fake.socket_send("events_api", envelope)
        assert await fake.wait_ack(env_id) == {"envelope_id": env_id}
    finally:
        await socket.close()


async def _eventually(check: Any, within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_bolt_app_over_socket_mode(fake: FakeSlack, client: AsyncWebClient) -> None:
    app = AsyncApp(client=client, signing_secret=SECRET)

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], say: Any) -> None:
        await say(text="On it", thread_ts=event["ts"])

    @app.command("/support")
    async def on_command(ack: Any) -> None:
        await ack("Got it")

    handler = AsyncSocketModeHandler(app, fake.app_token)
    await handler.connect_async()
    try:
        await fake.wait_socket_connected()
        event = sp.app_mention("my printer is on fire", ts="1700000000.000100")
        await fake.wait_ack(
            await fake.socket_send("events_api", sp.event_envelope(event, event_id="Ev2"))
        )
        await _eventually(lambda: fake.calls_to("chat.postMessage"))
        posted = fake.calls_to("chat.postMessage")[0].params
        assert (posted["channel"], posted["thread_ts"]) == ("C_HELP", "1700000000.000100")
        command = sp.slash_command_payload("help", response_url=fake.new_response_url())
        ack = await fake.wait_ack(await fake.socket_send("slash_commands", command))
        assert ack["payload"]["text"] == "Got it"
        assert fake.hub.sent[-1]["accepts_response_payload"] is True
        assert "retry_attempt" not in fake.hub.sent[-1]
    finally:
        await handler.close_async()


# --- payload builders ----------------------------------------------------------------


def test_sign_reproduces_slacks_test_vector() -> None:
    headers = sp.sign(sp.VECTOR_SECRET, sp.VECTOR_BODY, sp.VECTOR_TIMESTAMP)
    assert headers == {
        "X-Slack-Request-Timestamp": str(sp.VECTOR_TIMESTAMP),
        "X-Slack-Signature": sp.VECTOR_SIGNATURE,
    }

    class Frozen(Clock):
        def now(self) -> float:
            return float(sp.VECTOR_TIMESTAMP)

    verifier = SignatureVerifier(sp.VECTOR_SECRET, clock=Frozen())
    assert verifier.is_valid_request(sp.VECTOR_BODY, headers)
    assert verifier.is_valid_request(
        sp.VECTOR_BODY.encode(),
        sp.form_headers(sp.VECTOR_SECRET, sp.VECTOR_BODY, sp.VECTOR_TIMESTAMP),
    )
    assert not verifier.is_valid_request(sp.VECTOR_BODY + "x", headers)


def test_bolt_parses_an_app_mention_envelope() -> None:
    event = sp.app_mention("is it down?", ts="1700000000.000100", thread_ts="1699999999.000100")
    assert event["text"] == "<@U_BOT> is it down?"
    assert event["blocks"][0]["elements"][0]["elements"][0] == {"type": "user", "user_id": "U_BOT"}
    request = AsyncBoltRequest(body=json.dumps(sp.event_envelope(event, event_id="Ev3")))
    assert request.context.team_id == "T_ACME"
    assert request.context.user_id == "U_ALICE"
    assert request.context.channel_id == "C_HELP"
    assert request.body["event_time"] == 1700000000


async def test_signed_http_requests_pass_bolt(fake: FakeSlack, client: AsyncWebClient) -> None:
    app = AsyncApp(client=client, signing_secret=SECRET, process_before_response=True)
    seen: list[str] = []

    @app.event({"type": "message", "subtype": "message_changed"})
    async def on_changed(event: dict[str, Any]) -> None:
        seen.append(event["message"]["text"])

    @app.action("close")
    async def on_close(ack: Any, action: dict[str, Any]) -> None:
        await ack()
        seen.append(action["value"])

    @app.command("/support")
    async def on_command(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        seen.append(command["text"])

    changed = sp.message_changed("C_HELP", "1700000000.000100", "new", user="U_ALICE")
    bodies = [
        (json.dumps(sp.event_envelope(changed, event_id="Ev4")), sp.json_headers),
        (
            sp.block_actions_form(
                [sp.button_action("close", "T-1")],
                message_ts="1700000001.000100",
                response_url=fake.new_response_url(),
            ),
            sp.form_headers,
        ),
        (sp.slash_command_form("refund", response_url=fake.new_response_url()), sp.form_headers),
    ]
    for body, headers in bodies:
        signed = {k: [v] for k, v in headers(SECRET, body).items()}
        response = await app.async_dispatch(AsyncBoltRequest(body=body, headers=signed))
        assert response.status == 200, response.body
    assert seen == ["new", "T-1", "refund"]
    stale = {k: [v] for k, v in sp.json_headers(SECRET, "{}", int(time.time()) - 600).items()}
    assert (await app.async_dispatch(AsyncBoltRequest(body="{}", headers=stale))).status == 401


def test_form_builders_match_slacks_fields() -> None:
    form = parse_qs(sp.slash_command_form("a b", response_url="http://x/r", trigger_id="1.2.3"))
    assert form["command"] == ["/support"]
    assert form["text"] == ["a b"]
    assert "thread_ts" not in form
    assert "thread_ts" in parse_qs(sp.slash_command_form("x", response_url="u", thread_ts="1.2"))
    payload = json.loads(
        parse_qs(
            sp.block_actions_form(
                [sp.select_action("prio", "high")], message_ts="1.2", response_url="u"
            )
        )["payload"][0]
    )
    assert payload["type"] == "block_actions"
    assert payload["actions"][0]["selected_option"]["value"] == "high"
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1.2",
        "channel_id": "C_HELP",
        "is_ephemeral": False,
    }
    deleted = sp.message_deleted("C_HELP", "1700000000.000100", thread_ts="1699999999.000100")
    assert deleted["hidden"] is True
    assert deleted["previous_message"]["thread_ts"] == "1699999999.000100"
    assert sp.bot_message("hi", bot_id="B_X", channel="C", ts="1.2").get("subtype") is None
    assert (
        sp.classic_bot_message("hi", bot_id="B_X", channel="C", ts="1.2")["subtype"]
        == "bot_message"
    )
