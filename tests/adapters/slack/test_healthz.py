"""GET /healthz answers 503 while the bot cannot work (issue 10, item 9)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from adapters.slack.adapter import SlackAdapter
from bot.app import SupportApp
from bot.config import load_settings
from bot.ops.metrics import health_handler
from bot.store.db import Database
from tests.bot.pipeline.flaky import FlakySessions, until
from tests.fakes.slack import FakeSlack


async def test_healthz_is_503_while_the_database_fails_or_the_worker_is_not_running(
    db: Database, fake_slack: FakeSlack
) -> None:
    database = Database(db.url)
    flaky = FlakySessions(database.sessions)
    database.sessions = flaky  # type: ignore[assignment]
    app = SupportApp(load_settings(database_url=db.url), database=database)
    adapter = SlackAdapter(
        intake=app.intake,
        bot_token=fake_slack.bot_token,
        signing_secret="secret",
        api_url=fake_slack.base_url,
    )
    adapter.add_route("/healthz", health_handler(app.healthy))  # as `supportbot run` does
    async with TestClient(TestServer(adapter.web_app())) as http:
        assert (await http.get("/healthz")).status == 503  # no worker yet
        await app.start()
        try:
            assert await until(app.healthy)
            assert (await http.get("/healthz")).status == 200
            flaky.down = True
            response = await http.get("/healthz")
            assert response.status == 503
            assert (await response.json()) == {"status": "unavailable"}
            flaky.down = False
            assert await until(app.healthy, within=30)
            assert (await http.get("/healthz")).status == 200
        finally:
            await app.stop()
