"""Reactions and the typing indicator of the fake Discord (mixed into `FakeDiscord`).

``PUT`` / ``DELETE /channels/{cid}/messages/{mid}/reactions/{emoji}/@me`` add and remove
the bot's own reaction (204, idempotent as on Discord; 10003 Unknown Channel, 10008
Unknown Message); ``POST /channels/{cid}/typing`` starts the typing indicator (204).
Tests read `reactions[message_id]` (the emoji the bot has on that message, unicode or
``name:id``) and `typing` (channel ids, one per call), besides `rest_calls`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.fakes.discord_rest import RestCall, error

__all__ = ["ReactionRoutes"]

Handler = Callable[..., Awaitable[web.StreamResponse]]


class ReactionRoutes:
    """The bot's own reactions and typing; `FakeDiscord` supplies the world."""

    _known: dict[int, dict[str, Any]]
    _routes: list[tuple[str, re.Pattern[str], Handler]]
    _channel: Callable[[int], dict[str, Any] | None]

    def _init_reactions(self) -> None:
        """Add the routes to the REST table (after `_init_rest`)."""
        self.reactions: dict[int, list[str]] = {}
        self.typing: list[int] = []
        own = r"/channels/(\d+)/messages/(\d+)/reactions/([^/]+)/@me"
        for method, pattern, handler in (
            ("PUT", own, self._add_reaction),
            ("DELETE", own, self._remove_reaction),
            ("POST", r"/channels/(\d+)/typing", self._typing),
        ):
            self._routes.append((method, re.compile(pattern), handler))

    def _missing(self, cid: str, mid: str) -> web.Response | None:
        if self._channel(int(cid)) is None:
            return error(404, "Unknown Channel", 10003)
        message = self._known.get(int(mid))
        if message is None or message["channel_id"] != cid:
            return error(404, "Unknown Message", 10008)
        return None

    async def _add_reaction(self, call: RestCall, cid: str, mid: str, emoji: str) -> web.Response:
        problem = self._missing(cid, mid)
        if problem is not None:
            return problem
        names = self.reactions.setdefault(int(mid), [])
        if emoji not in names:
            names.append(emoji)
        return web.Response(status=204)

    async def _remove_reaction(
        self, call: RestCall, cid: str, mid: str, emoji: str
    ) -> web.Response:
        problem = self._missing(cid, mid)
        if problem is not None:
            return problem
        names = self.reactions.get(int(mid), [])
        if emoji in names:
            names.remove(emoji)
        return web.Response(status=204)

    async def _typing(self, call: RestCall, cid: str) -> web.Response:
        if self._channel(int(cid)) is None:
            return error(404, "Unknown Channel", 10003)
        self.typing.append(int(cid))
        return web.Response(status=204)
