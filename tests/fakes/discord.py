"""A fake Discord: REST under ``/api/v10`` and the gateway at ``/gw`` on one local
aiohttp server (127.0.0.1, free port), for the real discord.py 2.7 to talk to.

    async with FakeDiscord() as fake:
        with point_discord_py_at(fake):
            client = discord.Client(intents=discord.Intents(
                guilds=True, guild_messages=True, message_content=True))
            task = asyncio.create_task(client.start(fake.token))
            await fake.wait_ready()             # READY + GUILD_CREATE processed
            await fake.dispatch("MESSAGE_CREATE", payloads.message_create(
                "<@1001> help", message_id=fake.next_id(), mentions=[1001]))
            await fake.wait_until(lambda: fake.calls_to("POST", r"/channels/\\d+/messages"))
            await client.close()

The world: guild 2000 ("Acme Support") with text channel 300 (#support) and 301
(#support-leads), roles @everyone (id 2000), the mentionable lead role 400 and the
bot's managed role (``bot_role_id``); the bot user 1001 of application 1000.

What the bot did is kept in ``messages`` (per channel), ``edits`` (each successful
message edit: channel, message id and content, in order), ``threads`` (threads it
made), ``reactions`` and ``typing`` (`tests.fakes.discord_reactions`),
``interaction_callbacks``, ``followups`` and ``command_syncs``; every request is in
``rest_calls``. Messages the bot posts or edits come back to it on the gateway
as MESSAGE_CREATE/MESSAGE_UPDATE, and threads it makes as THREAD_CREATE, as on
Discord. Events a test dispatches update the world too: a MESSAGE_CREATE makes that
message exist (so the bot can start a thread on it), a MESSAGE_DELETE removes it, an
INTERACTION_CREATE makes its interaction answerable (for ``interaction_ack_seconds``,
3 s like Discord).

REST details: `tests.fakes.discord_rest`; gateway details: `tests.fakes.discord_gateway`.
"""

from __future__ import annotations

import asyncio
import copy
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

from tests.fakes import discord_payloads as dp
from tests.fakes.discord_gateway import GatewaySessions
from tests.fakes.discord_reactions import ReactionRoutes
from tests.fakes.discord_rest import API_PREFIX, RestCall, RestRoutes, _Interaction

__all__ = ["FakeDiscord", "RestCall", "point_discord_py_at"]


class FakeDiscord(RestRoutes, ReactionRoutes, GatewaySessions):
    """A local Discord for tests; use ``async with``."""

    def __init__(
        self,
        *,
        token: str = "discord-test-token",  # noqa: S107
        refuse_privileged_intents: bool = False,
        interaction_ack_seconds: float | None = 3.0,
    ) -> None:
        self.token = token
        self.application_id = dp.APPLICATION_ID
        self.bot_user_id = dp.BOT_USER_ID
        self.guild_id = dp.GUILD_ID
        self.lead_role_id = 400
        self.bot_role_id = dp.snowflake()
        self.refuse_privileged_intents = refuse_privileged_intents
        self.interaction_ack_seconds = interaction_ack_seconds
        self.api_base = ""
        self.gateway_url = ""
        self.channels: dict[int, dict[str, Any]] = {
            300: dp.channel_object(300, "support", topic="Ask the support bot: mention it"),
            301: dp.channel_object(301, "support-leads", position=1, topic="Escalations"),
        }
        self._known: dict[int, dict[str, Any]] = {}  # every message that exists
        self._interactions: dict[int, _Interaction] = {}
        self._tick = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._init_rest()
        self._init_reactions()
        self._init_gateway()

    # --- lifecycle -----------------------------------------------------------------
    async def __aenter__(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gw", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        # A short shutdown: open sockets are closed first, so nothing should linger.
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.api_base = f"http://127.0.0.1:{port}{API_PREFIX}"
        self.gateway_url = f"ws://127.0.0.1:{port}/gw"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._close_gateway()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- inspection and waiting ------------------------------------------------------
    def next_id(self) -> int:
        """A fresh, real-looking snowflake, larger than every earlier one."""
        return dp.snowflake()

    def calls_to(self, method: str, path_regex: str) -> list[RestCall]:
        """The recorded calls of `method` whose path (after /api/v10) fullmatches."""
        pattern = re.compile(path_regex)
        return [
            c for c in self.rest_calls if c.method == method.upper() and pattern.fullmatch(c.path)
        ]

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until ``predicate()`` is true; it is re-checked whenever the fake's state
        changes (a request, a gateway frame, a connection), e.g.
        ``await fake.wait_until(lambda: len(fake.followups) == 2)``."""
        await self._wait_until(predicate, timeout, "condition")

    def _notify(self) -> None:
        """Wake everything waiting in `_wait_until` to re-check its condition."""
        self._tick.set()
        self._tick = asyncio.Event()

    async def _wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109
        what: str,
    ) -> None:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    tick = self._tick  # taken before the check, so no wake-up is missed
                    if predicate():
                        return
                    await tick.wait()
        except TimeoutError:
            raise TimeoutError(f"fake Discord: no {what} within {timeout} s") from None

    # --- the world ------------------------------------------------------------------
    def _bot_user(self) -> dict[str, Any]:
        return dp.user(self.bot_user_id, "supportbot", bot=True)

    def _bot_member(self) -> dict[str, Any]:
        return dp.member([self.bot_role_id], user_obj=self._bot_user())

    def _application_flags(self) -> int:
        # GATEWAY_MESSAGE_CONTENT_LIMITED (1 << 19): the portal switch is on
        return 0 if self.refuse_privileged_intents else 1 << 19

    def _channel(self, channel_id: int) -> dict[str, Any] | None:
        return self.channels.get(channel_id) or self.threads.get(channel_id)

    def _guild_payload(self) -> dict[str, Any]:
        return dp.guild_create(
            bot_member=self._bot_member(),
            bot_role_id=self.bot_role_id,
            lead_role_id=self.lead_role_id,
            channels=list(self.channels.values()),
            threads=copy.deepcopy(list(self.threads.values())),
        )

    def _observe(self, event: str, data: dict[str, Any]) -> None:
        """What a dispatched event changes in the world."""
        data = copy.deepcopy(data)
        if event == "MESSAGE_CREATE":
            self._known[int(data["id"])] = data
        elif event == "MESSAGE_UPDATE" and int(data["id"]) in self._known:
            self._known[int(data["id"])].update(data)
        elif event == "MESSAGE_DELETE":
            self._known.pop(int(data["id"]), None)
        elif event == "INTERACTION_CREATE":
            self._interactions[int(data["id"])] = _Interaction(data, time.monotonic())


@contextmanager
def point_discord_py_at(fake: FakeDiscord) -> Iterator[None]:
    """Aim discord.py's REST base and default gateway at `fake`; restore on exit.

    Both are class attributes in discord.py, so this is process-wide while it lasts.
    """
    import discord
    import yarl

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
