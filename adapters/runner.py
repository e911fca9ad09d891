"""`supportbot run`: start every platform adapter whose credentials are set.

Lives with the adapters, not in `bot/`, because it is where platform SDKs get
imported; the core stays free of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from adapters.discord.settings import DiscordSettings
from adapters.slack.settings import SlackSettings
from bot import AdapterStartError
from bot.app import SupportApp
from bot.config import Settings
from bot.config.sections import DASHBOARD_PATH
from bot.events import Platform
from bot.ops.metrics import health_handler, metrics_handler, start_metrics_server

__all__ = ["AdapterPlan", "plan_adapters", "serve"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdapterPlan:
    """Whether an adapter starts, how, and why (printed for the operator)."""

    name: str
    on: bool
    how: str


def plan_adapters(
    slack: SlackSettings, discord: DiscordSettings, *, http: bool
) -> list[AdapterPlan]:
    """Decide which adapters start from the credentials that are set."""
    plans = [_slack_plan(slack, http=http)]
    if discord.bot_token is None:
        plans.append(AdapterPlan("discord", False, "DISCORD_BOT_TOKEN is not set"))
    else:
        plans.append(AdapterPlan("discord", True, "gateway connection"))
    return plans


def _slack_plan(slack: SlackSettings, *, http: bool) -> AdapterPlan:
    if slack.bot_token is None:
        return AdapterPlan("slack", False, "SLACK_BOT_TOKEN is not set")
    if http:
        if slack.signing_secret is None:
            return AdapterPlan("slack", False, "HTTP mode needs SLACK_SIGNING_SECRET")
        return AdapterPlan("slack", True, "HTTP mode, POST /slack/events")
    if slack.app_token is None:
        return AdapterPlan(
            "slack",
            False,
            "set SLACK_APP_TOKEN for Socket Mode, or run with --http and SLACK_SIGNING_SECRET",
        )
    return AdapterPlan("slack", True, "Socket Mode")


async def serve(
    settings: Settings,
    *,
    slack: SlackSettings,
    discord: DiscordSettings,
    http: bool,
    port: int,
    say: Callable[[str], object] = print,
) -> int:
    """Run the bot until SIGINT/SIGTERM; returns the exit code."""
    plans = plan_adapters(slack, discord, http=http)
    for plan in plans:
        say(f"{plan.name:<8} {'on ' if plan.on else 'off'}  {plan.how}")
    if not any(p.on for p in plans):
        say("No platform adapter can start. Set the tokens above, or try `supportbot chat`.")
        return 1
    # Login links (`/support dashboard`) name this port when no public URL is set.
    serving = settings.serving.model_copy(update={"http_port": port})
    app = SupportApp(settings.model_copy(update={"serving": serving}))
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopping.set)
    await app.start(with_jobs=True)
    stops: list[Callable[[], Awaitable[None]]] = []
    closes: Stops = []  # connections the relay sends through: closed after the app stops
    try:
        on = {p.name for p in plans if p.on}
        if "slack" in on:
            await _start_slack(app, slack, stops, closes, http=http, port=port)
        if "discord" in on:
            await _start_discord(app, discord, closes)
        if http:
            if "slack" not in on:  # Slack is not on the port: the dashboard has it alone
                await _start_dashboard(app, stops, port=port)
            say(f"{'dashboard':<8} on   {_public_url(app, port)}{DASHBOARD_PATH}/")
        metrics_port = settings.serving.metrics_port
        if metrics_port is not None:
            runner = await start_metrics_server(
                app.metrics,
                app.database.sessions,
                "0.0.0.0",  # noqa: S104 - scraped by Prometheus from outside the container
                metrics_port,
            )
            stops.append(runner.cleanup)
            say(f"metrics  on   http://0.0.0.0:{metrics_port}/metrics")
        # Everything loaded so far (SDKs, models, the embedder) lives as long as the
        # process: move it out of the collector's view. A full collection over those
        # ~150,000 objects paused the loop for ~130 ms mid-burst, every ack waiting.
        gc.collect()
        gc.freeze()
        await stopping.wait()
    except AdapterStartError as exc:
        say(str(exc))
        return 1
    finally:
        await _stop_all(stops)
        await app.stop()
        await _stop_all(closes)
    return 0


async def _stop_all(stops: list[Callable[[], Awaitable[None]]]) -> None:
    for stop in reversed(stops):
        with contextlib.suppress(Exception):
            await stop()


Stops = list[Callable[[], Awaitable[None]]]


def bind_leads_channel(
    app: SupportApp, platform: Platform, workspace_of: Callable[[str], str | None]
) -> None:
    """Tell the core which workspace a platform's bare leads channel belongs to, as the
    adapter finds it (`workspace_of(channel_id)`); an unknown one serves nobody."""
    channel = app.leads_channels.bare(platform)
    if channel is None:
        return
    workspace_id = workspace_of(channel)
    if workspace_id is None:
        log.warning("leads.channel.unbound platform=%s channel=%s", platform, channel)
        return
    app.leads_channels.bind(platform, workspace_id)


async def _start_slack(
    app: SupportApp, slack: SlackSettings, stops: Stops, closes: Stops, *, http: bool, port: int
) -> None:
    from slack_sdk.errors import SlackApiError

    from adapters.slack.adapter import SlackAdapter

    adapter = SlackAdapter.from_settings(
        slack,
        leads=app.settings.leads,
        intake=app.intake,
        on_ack=app.metrics.ack_seconds.labels("slack").observe,
        drafts=app.drafts,
        playbooks=app.settings.playbooks,
    )
    adapter.add_route("/metrics", metrics_handler(app.metrics, app.database.sessions))
    adapter.add_route("/healthz", health_handler(app.healthy))  # 503 while the bot cannot work
    if http:  # the leads' dashboard on the same port, next to /slack/events
        from bot.dashboard.app import dashboard_app, to_dashboard

        adapter.add_route(DASHBOARD_PATH, to_dashboard)
        adapter.add_subapp(DASHBOARD_PATH, dashboard_app(app, public_url=_public_url(app, port)))
    app.attach(Platform.SLACK, adapter.outlet)
    stops.append(adapter.stop)
    closes.append(adapter.close)
    try:
        if http:
            await adapter.start_http(port=port)
        else:
            await adapter.start_socket_mode()
    except SlackApiError as exc:
        raise AdapterStartError(
            f"slack: Slack said {exc.response.get('error')}; check SLACK_APP_TOKEN "
            "(xapp-..., scope connections:write) and SLACK_BOT_TOKEN"
        ) from None
    except OSError as exc:
        raise AdapterStartError(f"slack: cannot listen on port {port} ({exc})") from None
    bind_leads_channel(app, Platform.SLACK, lambda _channel: adapter.team_id)  # the token's team


async def _start_dashboard(app: SupportApp, stops: Stops, *, port: int) -> None:
    """`run --http` with Slack not over HTTP: the dashboard, /metrics and /healthz on
    the port by themselves."""
    from bot.dashboard.app import dashboard_site, start_site

    extra = [
        ("/metrics", metrics_handler(app.metrics, app.database.sessions)),
        ("/healthz", health_handler(app.healthy)),
    ]
    site = dashboard_site(app, public_url=_public_url(app, port), extra=extra)
    try:
        runner, _bound = await start_site(site, "0.0.0.0", port)  # noqa: S104 - as Slack's
    except OSError as exc:
        raise AdapterStartError(f"dashboard: cannot listen on port {port} ({exc})") from None
    stops.append(runner.cleanup)


def _public_url(app: SupportApp, port: int) -> str:
    """How browsers reach this server: SUPPORTBOT_PUBLIC_URL, else this port locally."""
    return app.settings.serving.public_url or f"http://localhost:{port}"


async def _start_discord(app: SupportApp, discord: DiscordSettings, closes: Stops) -> None:
    """Connect Discord; its stop goes in `closes`: discord.py closes the gateway and
    the REST session together, so only once the app's relay has sent what it held
    (what arrives meanwhile waits in the inbox for the next start)."""
    from adapters.discord.adapter import DiscordAdapter

    adapter = DiscordAdapter.from_settings(
        discord,
        leads=app.settings.leads,
        intake=app.intake,
        on_ack=app.metrics.ack_seconds.labels("discord").observe,
        drafts=app.drafts,
    )
    app.attach(Platform.DISCORD, adapter.outlet)
    try:
        await adapter.start()
    except AdapterStartError as exc:
        raise AdapterStartError(f"discord: {exc}") from None
    closes.append(adapter.stop)
    bind_leads_channel(app, Platform.DISCORD, adapter.workspace_of_channel)  # its own guild
