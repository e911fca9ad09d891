"""The fake Slack's streamed messages and reactions, driven by the real slack_sdk."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import FakeSlack

THREAD = "1700000000.000100"
FOR_ALICE = {"recipient_user_id": "U_ALICE", "recipient_team_id": "T_ACME"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as running:
        yield running


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)


async def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call  # type: ignore[misc]
    return str(caught.value.response["error"])


async def test_start_append_stop_builds_one_threaded_message(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    started = await client.chat_startStream(
        channel="C_HELP", thread_ts=THREAD, markdown_text="Open ", **FOR_ALICE
    )
    ts = started["ts"]
    assert started["channel"] == "C_HELP"
    await client.chat_appendStream(channel="C_HELP", ts=ts, markdown_text="*Billing*, ")
    await client.chat_appendStream(channel="C_HELP", ts=ts, markdown_text="then Export.")
    assert fake.streams[("C_HELP", ts)].stopped is False
    blocks = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "Sources: KB-12"}]}]
    stopped = await client.chat_stopStream(
        channel="C_HELP", ts=ts, markdown_text=" Done.", blocks=blocks
    )

    stream = fake.streams[("C_HELP", ts)]
    assert stream.pieces == ["Open ", "*Billing*, ", "then Export.", " Done."]
    assert (stream.text, stream.stopped, stream.thread_ts) == (
        "Open *Billing*, then Export. Done.",
        True,
        THREAD,
    )
    message = fake.messages[("C_HELP", ts)]
    assert (message["text"], message["thread_ts"], message["bot_id"]) == (
        stream.text,
        THREAD,
        "B_BOT",
    )
    assert message["blocks"] == blocks == stopped["message"]["blocks"]
    # slack-sdk sends these as JSON bodies; the fake records them like every call.
    methods = [c.method for c in fake.calls]
    assert methods == [
        "chat.startStream",
        "chat.appendStream",
        "chat.appendStream",
        "chat.stopStream",
    ]
    assert fake.calls[0].headers["Content-Type"].startswith("application/json")
    assert fake.calls[0].params["recipient_user_id"] == "U_ALICE"
    assert stream.recipient_user_id == "U_ALICE"
    appended = [c.params["markdown_text"] for c in fake.calls_to("chat.appendStream")]
    assert appended == ["*Billing*, ", "then Export."]


async def test_stream_errors_are_slacks(fake: FakeSlack, client: AsyncWebClient) -> None:
    ts = (await client.chat_startStream(channel="C_HELP", thread_ts=THREAD, **FOR_ALICE))["ts"]
    assert fake.streams[("C_HELP", ts)].pieces == []
    assert (
        await error_of(client.chat_appendStream(channel="C_HELP", ts="1.000000", markdown_text="x"))
        == "message_not_found"
    )
    assert (
        await error_of(client.chat_stopStream(channel="C_HELP", ts="1.000000"))
        == "message_not_found"
    )
    assert await error_of(client.chat_appendStream(channel="C_HELP", ts=ts)) == "no_text"
    await client.chat_stopStream(channel="C_HELP", ts=ts)
    late = client.chat_appendStream(channel="C_HELP", ts=ts, markdown_text="late")
    assert await error_of(late) == "message_not_in_streaming_state"
    again = client.chat_stopStream(channel="C_HELP", ts=ts)
    assert await error_of(again) == "message_not_in_streaming_state"
    assert (
        await error_of(client.chat_startStream(channel="C_HELP", thread_ts=""))
        == "invalid_arguments"
    )
    no_recipient = client.chat_startStream(channel="C_HELP", thread_ts=THREAD)
    assert await error_of(no_recipient) == "invalid_arguments"
    in_a_dm = await client.chat_startStream(channel="D_ALICE", thread_ts=THREAD)
    too_long = client.chat_appendStream(
        channel="D_ALICE", ts=in_a_dm["ts"], markdown_text="x" * 12_001
    )
    assert await error_of(too_long) == "msg_too_long"
    assert fake.streams[("C_HELP", ts)].text == ""


async def test_scripted_failures_reach_stream_methods(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    ts = (await client.chat_startStream(channel="D_ALICE", thread_ts=THREAD))["ts"]
    fake.fail("chat.appendStream", "ratelimited")
    failing = client.chat_appendStream(channel="D_ALICE", ts=ts, markdown_text="x")
    assert await error_of(failing) == "ratelimited"
    assert fake.streams[("D_ALICE", ts)].pieces == []


async def test_reactions_add_and_remove_like_slack(fake: FakeSlack, client: AsyncWebClient) -> None:
    user_message = ("C_HELP", "1700000001.000200")  # never stored by the fake: a user's
    await client.reactions_add(channel=user_message[0], timestamp=user_message[1], name="eyes")
    assert fake.reactions[user_message] == ["eyes"]
    twice = client.reactions_add(channel=user_message[0], timestamp=user_message[1], name="eyes")
    assert await error_of(twice) == "already_reacted"
    await client.reactions_remove(channel=user_message[0], timestamp=user_message[1], name="eyes")
    assert fake.reactions[user_message] == []
    gone = client.reactions_remove(channel=user_message[0], timestamp=user_message[1], name="eyes")
    assert await error_of(gone) == "no_reaction"
    nameless = client.reactions_add(channel="C_HELP", timestamp=user_message[1], name="")
    assert await error_of(nameless) == "invalid_name"
    calls = [(c.method, c.params["name"]) for c in fake.calls]
    assert calls[:3] == [
        ("reactions.add", "eyes"),
        ("reactions.add", "eyes"),
        ("reactions.remove", "eyes"),
    ]
    assert fake.calls[0].params["timestamp"] == user_message[1]
