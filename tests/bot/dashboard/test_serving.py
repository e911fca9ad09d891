"""Serving the dashboard: strict headers on every response; `supportbot web` on its own
port (with no relay: other processes' replies stay theirs to send); `supportbot run
--http` with the dashboard next to /slack/events, or alone on the port without Slack."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.dashboard.app import SECURITY_HEADERS
from bot.store.db import Database
from bot.store.logins import LoginLinks
from bot.store.models import OutboxItem, Ticket
from tests.adapters.slack.harness import SIGNING_SECRET, mention_envelope
from tests.adapters.test_runner import running
from tests.browser.stack import LEAD, ONE, running_dashboard
from tests.cli_runner import clean_env, run_cli
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_interactive import json_headers
from tests.net import free_port


def _secured(response: httpx.Response) -> bool:
    return all(response.headers.get(name) == value for name, value in SECURITY_HEADERS.items())


async def _until(check: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def _answers(http: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await http.get(url)).status_code < 500
    except httpx.HTTPError:
        return False


async def test_every_response_carries_the_security_headers(db: Database) -> None:
    async with running_dashboard(db) as stack:
        ticket_id = stack.ticket("I was charged")
        async with httpx.AsyncClient(base_url=stack.base) as anonymous:
            root = await anonymous.get("/")
            bare = await anonymous.get("/dashboard")
            signed_out = await anonymous.get("/dashboard/")
            used_up = await anonymous.get("/dashboard/login/not-a-token")
        async with stack.signed_in() as client:
            pages = [
                await client.get(path)
                for path in (
                    "/dashboard/",
                    "/dashboard/tickets",
                    f"/dashboard/tickets/{ticket_id}",
                    "/dashboard/tickets/999999",
                    "/dashboard/analytics",
                    "/dashboard/costs",
                    "/dashboard/tickets?status=nonsense",
                )
            ]
    assert (root.status_code, root.headers["Location"]) == (302, "/dashboard/")
    assert (bare.status_code, bare.headers["Location"]) == (302, "/dashboard/")
    assert signed_out.status_code == 401
    assert used_up.status_code == 403
    assert [page.status_code for page in pages] == [200, 200, 200, 404, 200, 200, 400]
    for response in (root, bare, signed_out, used_up, *pages):
        assert _secured(response), (response.url, dict(response.headers))
    assert "script-src 'self'" in SECURITY_HEADERS["Content-Security-Policy"]
    assert "unsafe-inline" not in SECURITY_HEADERS["Content-Security-Policy"]


async def test_supportbot_web_serves_the_dashboard_and_leaves_replies_to_the_bot(
    db: Database, tmp_path: Path
) -> None:
    async with running_dashboard(db) as stack:
        ticket_id = stack.ticket("I was charged")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(
        DATABASE_URL=db.url,
        SUPPORTBOT_LEAD_USER_IDS=LEAD,
        SUPPORTBOT_PUBLIC_URL=base,
        SUPPORTBOT_LOG_LEVEL="WARNING",
    )
    link = await run_cli("web", "--link", LEAD, "--workspace", ONE, cwd=tmp_path, env=env)
    assert link.code == 0, link.stderr
    url = link.stdout.strip()
    assert url.startswith(f"{base}/dashboard/login/")
    async with (
        running(["web", "--port", str(port)], env, tmp_path) as out,
        httpx.AsyncClient(base_url=base) as http,
    ):
        await _until(lambda: _answers(http, f"{base}/"))
        root = await http.get("/")
        signed_out = await http.get("/dashboard/")
        assert (await http.get(url)).status_code == 303
        queue = await http.get("/dashboard/")
        page = await http.get(f"/dashboard/tickets/{ticket_id}")
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        claimed = await http.post(f"/dashboard/tickets/{ticket_id}/claim", data={"csrf": csrf})
        await asyncio.sleep(2)  # a relay here would have tried the card updates by now
    assert f"dashboard on   {base}/dashboard/ (port {port})" in out
    assert (root.status_code, root.headers["Location"]) == (302, "/dashboard/")
    assert signed_out.status_code == 401
    assert queue.status_code == 200
    assert "I was charged twice" in queue.text
    assert claimed.status_code == 303
    async with db.sessions() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        waiting = (
            await session.scalars(select(OutboxItem).where(OutboxItem.status != "sent"))
        ).all()
    assert ticket.status == "claimed"
    # The two card updates and the note wait, untried, for the process with Slack's outlet.
    untried = {(row.platform, row.status, row.attempts) for row in waiting}
    assert untried == {("slack", "pending", 0)}
    assert sorted(row.kind for row in waiting) == ["post_reply", "update_card", "update_card"]


async def test_run_http_serves_the_dashboard_next_to_slack_events(
    db: Database, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with FakeSlack() as fake:
        env = clean_env(
            DATABASE_URL=db.url,
            SLACK_BOT_TOKEN=fake.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake.base_url,
            SUPPORTBOT_LEAD_USER_IDS=LEAD,
            SUPPORTBOT_LOG_LEVEL="WARNING",
        )
        async with (
            running(["run", "--http", "--port", str(port)], env, tmp_path) as out,
            httpx.AsyncClient(base_url=base) as http,
        ):
            await _until(lambda: _answers(http, f"{base}/healthz"))
            raw = json.dumps(mention_envelope("my export loses accents"))
            ack = await http.post(
                "/slack/events", content=raw, headers=json_headers(SIGNING_SECRET, raw)
            )
            bare = await http.get("/dashboard")
            signed_out = await http.get("/dashboard/")
            links = LoginLinks(
                db.sessions, dashboard_url=f"{base}/dashboard", ttl=timedelta(minutes=5)
            )
            url = await links.issue(
                platform="slack",
                user_id=LEAD,
                workspaces=[fake.team_id],
                now=datetime.now(UTC),
                issued_by="cli:operator",
            )
            assert (await http.get(url)).status_code == 303

            async def listed() -> bool:
                return "my export loses accents" in (await http.get("/dashboard/tickets")).text

            await _until(listed)
            queue = await http.get("/dashboard/")
    assert f"dashboard on   http://localhost:{port}/dashboard/" in out
    assert ack.status_code == 200
    assert (bare.status_code, bare.headers["Location"]) == (302, "/dashboard/")
    assert signed_out.status_code == 401
    assert _secured(signed_out)
    assert queue.status_code == 200
    assert _secured(queue)


async def test_run_http_without_slack_serves_the_dashboard_alone(
    db: Database, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with FakeDiscord() as fake:
        env = clean_env(
            DATABASE_URL=db.url,
            DISCORD_BOT_TOKEN=fake.token,
            DISCORD_API_URL=fake.api_base,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            SUPPORTBOT_PUBLIC_URL="https://support.example.com",
            SUPPORTBOT_LOG_LEVEL="WARNING",
        )
        async with (
            running(["run", "--http", "--port", str(port)], env, tmp_path) as out,
            httpx.AsyncClient(base_url=base) as http,
        ):
            await fake.wait_ready(timeout=20)
            await _until(lambda: _answers(http, f"{base}/dashboard/"))
            root = await http.get("/")
            signed_out = await http.get("/dashboard/")
            metrics = await http.get("/metrics")
            events = await http.post("/slack/events", content="{}")
    assert "slack    off  SLACK_BOT_TOKEN is not set" in out
    assert "dashboard on   https://support.example.com/dashboard/" in out
    assert (root.status_code, root.headers["Location"]) == (302, "/dashboard/")
    assert signed_out.status_code == 401
    assert "supportbot_events_received_total" in metrics.text
    assert events.status_code in (404, 405)  # no Slack on this port
