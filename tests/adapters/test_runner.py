"""`supportbot run` as a real process: Slack over HTTP and Discord over the gateway."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from tests.adapters.slack.harness import SIGNING_SECRET, mention_envelope
from tests.cli_runner import SUPPORTBOT, clean_env
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_payloads import message_create
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_interactive import json_headers
from tests.net import free_port


@asynccontextmanager
async def running(args: list[str], env: dict[str, str], cwd: Path) -> AsyncIterator[list[str]]:
    """`supportbot ARGS` in the background; yields its stdout lines; SIGTERM at the end."""
    proc = await asyncio.create_subprocess_exec(
        *SUPPORTBOT,
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    lines: list[str] = []

    async def read() -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            lines.append(line.decode().rstrip())

    reader = asyncio.create_task(read())
    try:
        yield lines
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
        await reader
        assert code == 0, lines


async def _until(check: object, within: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def test_run_serves_slack_over_http_with_health_and_metrics(tmp_path: Path) -> None:
    port = free_port()
    async with FakeSlack() as fake:
        env = clean_env(
            SLACK_BOT_TOKEN=fake.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake.base_url,
            SUPPORTBOT_LOG_LEVEL="WARNING",
        )
        base = f"http://127.0.0.1:{port}"
        async with (
            running(["run", "--http", "--port", str(port)], env, tmp_path) as out,
            httpx.AsyncClient() as http,
        ):

            async def healthy() -> bool:
                try:
                    return (await http.get(f"{base}/healthz")).status_code == 200
                except httpx.HTTPError:
                    return False

            await _until(healthy)
            raw = json.dumps(mention_envelope("does the real command work?"))
            ack = await http.post(
                f"{base}/slack/events", content=raw, headers=json_headers(SIGNING_SECRET, raw)
            )
            assert ack.status_code == 200

            async def answered() -> bool:
                return len(fake.calls_to("chat.postMessage")) >= 1  # the card with the answer

            await _until(answered)
            metrics = (await http.get(f"{base}/metrics")).text
    assert "slack    on   HTTP mode, POST /slack/events" in out
    assert "discord  off  DISCORD_BOT_TOKEN is not set" in out
    assert 'supportbot_events_received_total{kind="message_posted",platform="slack"} 1.0' in metrics
    assert "supportbot_ack_seconds_count" in metrics
    assert (tmp_path / "supportbot.db").exists()  # migrated on start


async def test_run_connects_to_discord_at_the_configured_urls(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        env = clean_env(
            DISCORD_BOT_TOKEN=fake.token,
            DISCORD_API_URL=fake.api_base,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            SUPPORTBOT_LOG_LEVEL="WARNING",
        )
        async with running(["run"], env, tmp_path) as out:
            await fake.wait_ready(timeout=20)

            async def synced() -> bool:
                return bool(fake.command_syncs)

            await _until(synced)
            await fake.dispatch(
                "MESSAGE_CREATE",
                message_create(
                    "<@1001> hello from discord", message_id=920000000000000001, mentions=[1001]
                ),
            )

            async def answered() -> bool:
                return bool(fake.calls_to("POST", r"/channels/920000000000000001/messages"))

            await _until(answered)
    assert "discord  on   gateway connection" in out
    assert fake.identifies == 1
