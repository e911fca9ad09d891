"""A fake Slack: the Web API over real HTTP and Socket Mode over a real WebSocket.

A real aiohttp server on 127.0.0.1 (free port). Point the real SDK at it:

    async with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
        fake.rate_limit("chat.postMessage", retry_after=1)
        await client.chat_postMessage(channel="C_HELP", text="hi")   # -> 429 first
        socket = SocketModeClient(app_token=fake.app_token, web_client=client)
        await socket.connect(); await fake.wait_socket_connected()
        env_id = await fake.socket_send("events_api", payloads.event_envelope(...))
        await fake.wait_ack(env_id)

Web API requests meet, in order: recording in `calls` (every call, failed ones too);
the token check (``Authorization: Bearer``, or a ``token`` field; the bot token, or the
app token for ``apps.connections.open``) -> 200 ``invalid_auth``; a scripted
`rate_limit` (429 + Retry-After, ``ratelimited``); a scripted `fail` (200, ok false);
then the method itself (``unknown_method`` when not implemented). Streamed messages
(``chat.startStream`` / ``appendStream`` / ``stopStream``) and reactions:
`tests.fakes.slack_stream`.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.slack_socket import SocketModeHub
from tests.fakes.slack_stream import SlackStream, StreamMethods
from tests.fakes.slack_web import OK_ONLY, WebApiMethods, json_dict, json_list

__all__ = ["FakeSlack", "SlackCall", "SlackStream"]


@dataclass(frozen=True)
class SlackCall:
    """One Web API call (or response_url POST) the fake received."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float  # time.monotonic() when received

    @property
    def blocks(self) -> list[dict[str, Any]]:
        """The `blocks` parameter, parsed if it came as a JSON string; [] if absent."""
        return json_list(self.params.get("blocks"))


def _slack_json(body: dict[str, Any], status: int = 200, **headers: str) -> web.Response:
    return web.json_response(body, status=status, headers=headers or None)


class FakeSlack(WebApiMethods, StreamMethods):
    """A local Slack workspace for tests; use ``async with``."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",  # noqa: S107
        app_token: str = "xapp-1-test",  # noqa: S107
        team_id: str = "T_ACME",
        bot_user_id: str = "U_BOT",
        bot_id: str = "B_BOT",
        app_id: str = "A_APP",
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.base_url = ""
        self.root_url = ""
        self.calls: list[SlackCall] = []
        self.response_posts: dict[str, list[dict[str, Any]]] = {}
        self.usergroup_members: dict[str, list[str]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}  # user_id -> published view
        self.modals: list[dict[str, Any]] = []  # views.open, as answered
        self.streams: dict[tuple[str, str], SlackStream] = {}  # chat.startStream messages
        self.reactions: dict[tuple[str, str], list[str]] = {}  # the bot's, per message
        self.hub = SocketModeHub(app_id=app_id)
        self._rate_limits: dict[str, list[int]] = defaultdict(list)
        self._failures: dict[str, list[str]] = defaultdict(list)
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None

    # --- lifecycle -------------------------------------------------------------
    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{rid}", self._response_url)
        app.router.add_get("/link/", self.hub.handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.root_url = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.root_url}/api/"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- scripting and inspection ------------------------------------------------
    def calls_to(self, method: str) -> list[SlackCall]:
        """The calls of one Web API method, in order."""
        return [c for c in self.calls if c.method == method]

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls of `method` get 429, Retry-After, ``ratelimited``."""
        self._rate_limits[method].extend([retry_after] * times)

    def fail(self, method: str, error: str = "channel_not_found", *, times: int = 1) -> None:
        """The next `times` calls of `method` answer 200 ``{"ok": false, "error": error}``."""
        self._failures[method].extend([error] * times)

    def new_response_url(self) -> str:
        """A fresh response_url (as in a slash command or interaction payload)."""
        rid = uuid.uuid4().hex[:16]
        self.response_posts[rid] = []
        return f"{self.root_url}/response/{rid}"

    # --- Socket Mode (delegates to the hub) --------------------------------------
    @property
    def socket_connections(self) -> int:
        """How many Socket Mode clients have connected so far."""
        return self.hub.connections

    async def socket_send(
        self,
        payload_type: str,
        payload: dict[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        """Send an envelope (``events_api``/``slash_commands``/``interactive``) to the
        connected clients; return its envelope_id."""
        return await self.hub.send(
            payload_type, payload, retry_attempt=retry_attempt, retry_reason=retry_reason
        )

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The client's ack message ``{"envelope_id", "payload"?}`` for an envelope."""
        return await self.hub.wait_ack(envelope_id, timeout)

    async def wait_socket_connected(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Return once a Socket Mode client is connected."""
        await self.hub.wait_connected(timeout)

    async def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask connected clients to reconnect, as Slack does every few hours."""
        await self.hub.disconnect(reason)

    # --- HTTP handlers -------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method != "POST":
            return params
        if request.content_type == "application/json":
            body = await request.text()
            try:
                data = json.loads(body) if body.strip() else {}
            except ValueError:
                data = {"__invalid_json__": body}
            params.update(data if isinstance(data, dict) else {"__invalid_json__": body})
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        else:
            params.update(parse_qsl(await request.text()))
        return params

    def _token(self, request: web.Request, params: dict[str, Any]) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth.removeprefix("Bearer ")
        token = params.pop("token", None)
        return token if isinstance(token, str) else None

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await self._params(request)
        token = self._token(request, params)
        self.calls.append(SlackCall(method, params, dict(request.headers), time.monotonic()))
        wanted = self.app_token if method == "apps.connections.open" else self.bot_token
        if token is None:
            return _slack_json({"ok": False, "error": "not_authed"})
        if token != wanted:
            return _slack_json({"ok": False, "error": "invalid_auth"})
        if self._rate_limits[method]:
            retry_after = self._rate_limits[method].pop(0)
            body = {"ok": False, "error": "ratelimited"}
            return _slack_json(body, status=429, **{"Retry-After": str(retry_after)})
        if self._failures[method]:
            return _slack_json({"ok": False, "error": self._failures[method].pop(0)})
        if "__invalid_json__" in params:
            return _slack_json({"ok": False, "error": "invalid_json"})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            if method in OK_ONLY:
                return _slack_json({"ok": True})
            return _slack_json({"ok": False, "error": "unknown_method"})
        result = handler(params)
        headers = {"X-OAuth-Scopes": "app_mentions:read,chat:write,commands,usergroups:read"}
        return _slack_json(result, **(headers if method == "auth.test" else {}))

    async def _response_url(self, request: web.Request) -> web.StreamResponse:
        rid = request.match_info["rid"]
        text = await request.text()
        body = json_dict(text) or {"raw": text}
        self.calls.append(SlackCall("response_url", body, dict(request.headers), time.monotonic()))
        if rid not in self.response_posts:
            return web.Response(status=404, text="no_service", content_type="text/plain")
        self.response_posts[rid].append(body)
        return web.Response(text="ok", content_type="text/plain")
