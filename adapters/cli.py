"""The full `supportbot` command: the core's admin commands plus `run` and `chat`.

`run` and `chat` live with the adapters because they start platform adapters (and
so import platform SDKs); `bot/` never imports `adapters/`. The console script
points here.

Like `bot/cli`, this module imports only click and the core's command definitions:
the platform SDKs, the settings models, the doctor checks and asyncio are imported
by the commands that use them, so `supportbot --help` starts fast.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from bot import ConfigError, SupportbotError
from bot.cli import Extension, cli, sections_of, settings_of

if TYPE_CHECKING:
    import asyncio

    from adapters.discord.settings import DiscordSettings
    from adapters.slack.settings import SlackSettings
    from bot.config import Settings
    from bot.events import Event
    from bot.ops.doctor import Check

__all__ = ["extensions", "main"]


def extensions() -> tuple[Extension, ...]:
    """The platforms: their settings in `supportbot config`, their checks in `doctor`.

    Called by the first command that reads settings (the settings are pydantic models).
    """
    from adapters.discord.settings import DiscordSettings
    from adapters.slack.settings import SlackSettings

    return (
        Extension(name="slack", settings=SlackSettings, checks=_check_slack),
        Extension(name="discord", settings=DiscordSettings, checks=_check_discord),
    )


# The checks import `bot.ops.doctor` (the database, the model client, the whole app)
# and httpx: only `supportbot doctor` needs them.
async def _check_slack(settings: SlackSettings) -> Check:
    """`adapters.slack.doctor.check_slack`, imported when it runs."""
    from adapters.slack.doctor import check_slack

    return await check_slack(settings)


async def _check_discord(settings: DiscordSettings) -> list[Check]:
    """`adapters.discord.doctor.check_discord`, imported when it runs."""
    from adapters.discord.doctor import check_discord

    return await check_discord(settings)


OFFLINE_NOTE = (
    "DEEPSEEK_API_KEY is not set: triage runs offline on rules, and every ticket goes to a person."
)


@cli.command()
@click.pass_context
def chat(ctx: click.Context) -> None:
    """Talk to the bot in this terminal, as a user and a support lead at once."""
    import asyncio
    import logging

    settings = settings_of(ctx)
    if settings.serving.log_level != "DEBUG":  # log lines would drown the conversation
        logging.getLogger().setLevel(logging.WARNING)
    asyncio.run(_chat(settings))


@cli.command()
@click.option("--http", is_flag=True, help="Serve Slack over HTTP (POST /slack/events).")
@click.option("--port", type=int, default=None, help="HTTP port (default SUPPORTBOT_HTTP_PORT).")
@click.option("--metrics-port", type=int, default=None, help="Serve /metrics on this port too.")
@click.pass_context
def run(ctx: click.Context, http: bool, port: int | None, metrics_port: int | None) -> None:
    """Run the bot on every platform whose tokens are set."""
    import asyncio

    from adapters.runner import serve

    settings, sections = settings_of(ctx), sections_of(ctx)
    serving = settings.serving
    if metrics_port is not None:
        serving = serving.model_copy(update={"metrics_port": metrics_port})
        settings = settings.model_copy(update={"serving": serving})
    code = asyncio.run(
        serve(
            settings,
            slack=sections["slack"],  # type: ignore[arg-type]
            discord=sections["discord"],  # type: ignore[arg-type]
            http=http,
            port=port or serving.http_port,
            say=click.echo,
        )
    )
    ctx.exit(code)


class _Settlements:
    """Futures for events the terminal is waiting on, resolved by the worker."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[str]] = {}
        self._early: dict[str, str] = {}  # settled before anyone waited

    def settled(self, event: Event, status: str) -> None:
        """The worker finished `event` (done, or failed for good)."""
        future = self._waiting.pop(event.event_id, None)
        if future is None:
            self._early[event.event_id] = status
        elif not future.done():
            future.set_result(status)

    async def wait(self, event_id: str) -> str:
        """Wait until the event with `event_id` is settled."""
        import asyncio

        if event_id in self._early:
            return self._early.pop(event_id)
        future = self._waiting.setdefault(event_id, asyncio.get_running_loop().create_future())
        return await future


async def _chat(settings: Settings) -> None:
    from adapters.console import ConsoleChannel, ConsoleOutlet
    from bot.app import SupportApp
    from bot.events import Platform

    settlements = _Settlements()
    app = SupportApp(settings, on_settled=settlements.settled)
    app.attach(Platform.CONSOLE, ConsoleOutlet(sys.stdout))
    async with app:
        click.echo("supportbot terminal channel. Type your question; /help lists commands.")
        if app.offline:
            click.echo(OFFLINE_NOTE)
        channel = ConsoleChannel(
            app.intake, settlements.wait, drafts=app.drafts, ticket_of=app.ticket_in
        )
        await channel.run()


def main() -> None:
    """Console-script entry point."""
    try:
        cli.main(obj={"extensions": extensions}, standalone_mode=True)
    except SupportbotError as exc:  # operator-facing: one line, never a traceback
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2 if isinstance(exc, ConfigError) else 1)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
