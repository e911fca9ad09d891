"""The Slack adapter's lifecycle: a bolt `AsyncApp`, served over Socket Mode or HTTP.

Every listener first hands its event to the core (which commits it to the inbox)
and only then acknowledges, so Slack is never told "got it" about an event we could
lose. All the work happens later in the core's workers; acks take milliseconds.

The bot's identity (user id, team) comes from one `auth.test` when the adapter starts;
a failure there is an `AdapterStartError`. Bolt authorizes every request from that
identity. Should a request arrive while it is still unknown, the answer is a 5xx (or,
over Socket Mode, no ack), so Slack delivers it again: never a 200 with nothing stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import Drafts, Intake
from adapters.slack.answers import AnswerSaving
from adapters.slack.http import (
    bolt_request_of,
    check_request,
    healthz,
    malformed,
    needs_identity,
    not_ready,
)
from adapters.slack.identity import IdentityUnknown, SlackIds, authorize
from adapters.slack.outlet import SlackOutlet, retry_handlers
from adapters.slack.settings import SlackSettings
from adapters.slack.socket import CheckedSocketModeHandler
from adapters.slack.to_event import from_block_actions, from_command, from_envelope
from bot import AdapterStartError
from bot.config import LeadsSettings
from bot.config.playbook import Playbooks
from bot.pipeline.pacing import ChannelBuckets, Pace

__all__ = ["MAX_BODY_BYTES", "SlackAdapter"]

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 512 * 1024  # far above any real Slack payload; larger bodies get 413


class SlackAdapter:
    """Translates Slack to `bot.events` and back; never touches the database or the model."""

    def __init__(
        self,
        *,
        intake: Intake,
        bot_token: str,
        signing_secret: str | None,
        app_token: str | None = None,
        api_url: str = "https://slack.com/api/",
        lead_group_id: str | None = None,
        team_group_ids: tuple[str, ...] = (),
        allowed_bot_ids: tuple[str, ...] = (),
        messages_per_second: float = 1.0,
        on_ack: Callable[[float], None] | None = None,
        drafts: Drafts | None = None,
    ) -> None:
        self._intake = intake
        self._app_token = app_token
        self._api_url = api_url
        self.client = AsyncWebClient(token=bot_token, base_url=api_url)
        self.client.retry_handlers.extend(retry_handlers())
        self.ids = SlackIds(
            allowed_bot_ids=allowed_bot_ids,
            lead_group_id=lead_group_id,
            team_group_ids=team_group_ids,
        )
        self._auth: AuthorizeResult | None = None
        self._auth_lock = asyncio.Lock()
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None

        async def authorized() -> AuthorizeResult:  # bolt inspects argument names: no `self`
            return self._authorized()

        self.app = AsyncApp(
            # Bolt's own client stays token-less: every request is authorized from our
            # cached auth.test (`_authorized`), never by a fresh call mid-request.
            client=AsyncWebClient(base_url=api_url),
            authorize=authorized,
            signing_secret=signing_secret,
            process_before_response=True,
            # `_http_events` checks every signature before bolt sees the request (and
            # answers 401 itself); a second HMAC of the same body would only cost time.
            request_verification_enabled=False,
        )
        self.outlet = SlackOutlet(
            self.client,
            pacing=ChannelBuckets(Pace(per_second=messages_per_second, burst=3)),
            lead_group_id=lead_group_id,
        )
        self._socket: CheckedSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self._on_ack = on_ack
        self._extra_routes: list[tuple[str, Any]] = []
        self._subapps: list[tuple[str, web.Application]] = []
        self._answers = AnswerSaving(
            client=self.client,
            outlet=self.outlet,
            intake=intake,
            ids=self.ids,
            drafts=drafts,
        )
        self._register()

    @classmethod
    def from_settings(
        cls,
        settings: SlackSettings,
        *,
        leads: LeadsSettings,
        intake: Intake,
        on_ack: Callable[[float], None] | None = None,
        drafts: Drafts | None = None,
        playbooks: Playbooks | None = None,
    ) -> SlackAdapter:
        """Build from the Slack settings (the bot token must be set) and the leads' (the
        teams' user groups from `playbooks`); without `drafts`, "Save as answer" says it
        is not available."""
        assert settings.bot_token is not None
        return cls(
            intake=intake,
            bot_token=settings.bot_token.get_secret_value(),
            signing_secret=_secret(settings.signing_secret),
            app_token=_secret(settings.app_token),
            api_url=settings.api_url,
            lead_group_id=leads.slack_usergroup_id,
            team_group_ids=_team_groups(playbooks),
            allowed_bot_ids=tuple(settings.allowed_bot_ids),
            messages_per_second=settings.messages_per_second,
            on_ack=on_ack,
            drafts=drafts,
        )

    # --- listeners ------------------------------------------------------------

    def _register(self) -> None:
        self.app.event("app_mention")(self._on_event)
        self.app.event("message")(self._on_event)
        self.app.event("app_home_opened")(self._on_event)
        # Any other subscribed event is acknowledged, so Slack never retries it.
        self.app.event(re.compile(".*"))(self._ack_only)
        self.app.command(re.compile(r"^/"))(self._on_command)
        self._answers.register(self.app)  # bolt runs the first listener that matches
        self.app.action(re.compile("^ticket:"))(self._on_action)
        self.app.action(re.compile(".*"))(self._ack_only)
        self.app.error(self._on_error)

    def _acked(self, started: float) -> None:
        if self._on_ack is not None:
            self._on_ack(time.monotonic() - started)

    async def _on_event(self, body: dict[str, Any], ack: AsyncAck) -> None:
        started = time.monotonic()
        await self.ids.refresh_lead_group(self.client)
        event = from_envelope(body, self.ids)
        if event is not None:
            await self._intake.submit(event)
        await ack()
        self._acked(started)

    async def _on_command(self, body: dict[str, Any], ack: AsyncAck) -> None:
        started = time.monotonic()
        if not self.ids.serves(body):
            await ack()  # a team this bot does not serve: acknowledged, nothing stored
            return
        await self.ids.refresh_lead_group(self.client)
        event = from_command(body, self.ids)
        if event is None:
            await ack(text="Sorry, I could not read that command.")
            return
        await self._intake.submit(event)
        await ack()
        self._acked(started)

    async def _on_action(self, body: dict[str, Any], ack: AsyncAck) -> None:
        started = time.monotonic()
        await self.ids.refresh_lead_group(self.client)
        for event in from_block_actions(body, self.ids):
            await self._intake.submit(event)
        await ack()
        self._acked(started)

    async def _ack_only(self, ack: AsyncAck) -> None:
        await ack()

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        log.error("slack.listener.failed error=%s", type(error).__name__)

    # --- identity ---------------------------------------------------------------

    @property
    def team_id(self) -> str | None:
        """The team the bot serves, as `auth.test` said at start; None before that."""
        return self.ids.team_id if self._auth is not None else None

    async def authorize(self) -> None:
        """Learn who the bot is and which team it serves, with one `auth.test`.

        Raises:
            AdapterStartError: Slack refused the bot token or could not be reached.
        """
        self._keep_connections()
        async with self._auth_lock:
            if self._auth is not None:
                return
            found, scopes = await authorize(self.client, self._api_url)
            self.ids.learn(found)
            self._auth = self.ids.authorize_result(self.client.token, scopes)
        log.info("slack.authorized team=%s bot_user=%s", self.ids.team_id, self.ids.bot_user_id)

    def _keep_connections(self) -> None:
        """One aiohttp session for every Web API call (opened inside the loop): without
        it slack-sdk opens a session, and a connection, per call."""
        if self.client.session is None or self.client.session.closed:
            self.client.session = aiohttp.ClientSession()

    def _authorized(self) -> AuthorizeResult:
        """Bolt's `authorize`: the identity learned at start, or a 500 (Slack retries)."""
        if self._auth is None:
            raise IdentityUnknown("slack: a request arrived before auth.test succeeded")
        return self._auth

    # --- serving ----------------------------------------------------------------

    def web_app(self) -> web.Application:
        """The HTTP endpoints: `POST /slack/events` (events, commands, buttons) and `/healthz`."""
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post("/slack/events", self._http_events)
        if "/healthz" not in dict(self._extra_routes):  # the runner's knows the database
            app.router.add_get("/healthz", healthz)
        for path, handler in self._extra_routes:
            app.router.add_get(path, handler)
        for prefix, subapp in self._subapps:
            app.add_subapp(prefix, subapp)
        return app

    def add_route(self, path: str, handler: Any) -> None:
        """Serve another GET endpoint in HTTP mode (the runner adds /metrics)."""
        self._extra_routes.append((path, handler))

    def add_subapp(self, prefix: str, subapp: web.Application) -> None:
        """Serve a whole application under `prefix` in HTTP mode (the runner mounts the
        leads' dashboard at /dashboard), next to /slack/events."""
        self._subapps.append((prefix, subapp))

    async def _http_events(self, request: web.Request) -> web.Response:
        raw = await request.text()  # over MAX_BODY_BYTES: aiohttp answers 413
        body, refusal = check_request(raw, request.headers, self._verifier)
        if body is None:  # unsigned (401) or not a Slack payload (400)
            return refusal or malformed()
        if self._auth is None and needs_identity(body):
            try:
                await self.authorize()
            except AdapterStartError as exc:
                log.warning("slack.request.identity_unknown reason=%s", exc)
                return not_ready()  # a 503: Slack delivers the event again later
        bolt_request = bolt_request_of(raw, request)
        if bolt_request is None:
            return malformed()
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def start_http(self, host: str = "0.0.0.0", port: int = 3000) -> int:  # noqa: S104
        """Authorize, then serve HTTP mode; returns the bound port (useful with port 0).

        Raises:
            AdapterStartError: `auth.test` failed (see `authorize`).
        """
        await self.authorize()
        # No access log: a line per Slack request, through the redacting filter, was a
        # tenth of the ack path's CPU; the inbox keeps a row of every event it accepts.
        self._runner = web.AppRunner(self.web_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server  # aiohttp keeps the bound sockets here
        bound = server.sockets[0].getsockname()[1] if server and server.sockets else port
        log.info("slack.http.listening port=%s", bound)
        return int(bound)

    async def start_socket_mode(self) -> None:
        """Authorize, then connect over Socket Mode (needs SLACK_APP_TOKEN).

        Raises:
            AdapterStartError: no app token, or `auth.test` failed (see `authorize`).
        """
        if not self._app_token:
            raise AdapterStartError("Socket Mode needs SLACK_APP_TOKEN (xapp-...)")
        await self.authorize()
        self._socket = CheckedSocketModeHandler(self.app, self._app_token, web_client=self.client)
        await self._socket.connect_async()
        log.info("slack.socket_mode.connected")

    async def stop(self) -> None:
        """Close the socket or the HTTP server: nothing more comes in. Replies can still
        be sent until `close()`."""
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close_async()
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def close(self) -> None:
        """Close the Web API's connections: after the app's relay sent what it held."""
        if self.client.session is not None:
            await self.client.session.close()
            self.client.session = None


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _team_groups(playbooks: Playbooks | None) -> tuple[str, ...]:
    """Every team's Slack user group, in every workspace's playbook, once each."""
    if playbooks is None:
        return ()
    groups = (
        team.slack_usergroup_id
        for playbook in playbooks.all().values()
        for team in playbook.teams
        if team.slack_usergroup_id
    )
    return tuple(dict.fromkeys(groups))
