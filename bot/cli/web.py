"""`supportbot web`: serve the leads' dashboard, or print a one-time login link for a lead.

`supportbot web --link USER_ID [--platform P] [--workspace W]` prints the URL and exits
(status 1, and no URL, for someone who leads nothing there); `supportbot web [--port N]`
serves the dashboard at `{SUPPORTBOT_PUBLIC_URL}/dashboard`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from bot import ConfigError
from bot.cli import PLATFORMS, SettingsProblem, _database, cli, settings_of

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = ["serve_dashboard", "web"]

NOT_A_LEAD = 1
"""Exit status when USER_ID leads nothing on the platform (no URL is printed)."""


@cli.command("web")
@click.option("--port", type=int, default=None, help="Port (default SUPPORTBOT_HTTP_PORT).")
@click.option(
    "--link",
    "link_user",
    metavar="USER_ID",
    default=None,
    help="Print a one-time login URL for this lead and exit (no server).",
)
@click.option(
    "--platform",
    type=click.Choice(PLATFORMS, case_sensitive=False),
    default=None,
    help="With --link: the lead's platform (default: console for `you`, discord for a "
    "numeric id, else slack).",
)
@click.option(
    "--workspace",
    default=None,
    help="With --link: only this Slack team / Discord guild (default: every one they lead).",
)
@click.pass_context
def web(
    ctx: click.Context,
    port: int | None,
    link_user: str | None,
    platform: str | None,
    workspace: str | None,
) -> None:
    """Serve the leads' dashboard, or (--link USER_ID) print a lead's login link.

    A link works once, for SUPPORTBOT_DASHBOARD_LINK_MINUTES (10); leads by Discord
    role or Slack user group get theirs in chat with `/support dashboard`."""
    if link_user is None:
        if platform is not None or workspace is not None:
            raise click.UsageError("--platform and --workspace go with --link USER_ID")
        serve_dashboard(ctx, port)
        return
    if port is not None:
        raise click.UsageError("--port is for serving; --link only prints a URL")
    print_link(ctx, link_user, (platform or default_platform(link_user)).lower(), workspace)


def default_platform(user_id: str) -> str:
    """The platform a bare user id most likely belongs to: the terminal's `you`, a Discord
    snowflake (digits), or else a Slack id (`U…`/`W…`)."""
    if user_id == "you":
        return "console"
    return "discord" if user_id.isdigit() else "slack"


def serve_dashboard(ctx: click.Context, port: int | None) -> None:
    """Serve the dashboard on `port` (default SUPPORTBOT_HTTP_PORT) until interrupted.

    Only the dashboard runs here: no inbox worker and no outbox relay. A relay in this
    process would have no platform outlet, and would mark the bot's replies failed;
    an action's card updates and notes wait in the outbox for the bot's own process
    (`supportbot run`), whose relay sends them.
    """
    import asyncio

    settings = settings_of(ctx)
    port = port or settings.serving.http_port
    try:
        asyncio.run(_serve(settings, port))
    except OSError as exc:
        raise click.ClickException(f"cannot listen on port {port} ({exc})") from None


async def _serve(settings: Settings, port: int) -> None:
    """Migrate, serve the dashboard site on `port`, stop on SIGINT/SIGTERM."""
    import asyncio
    import contextlib
    import signal

    from bot.app import SupportApp
    from bot.config.sections import DASHBOARD_PATH
    from bot.dashboard.app import dashboard_site, start_site
    from bot.store.migrate import upgrade

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopping.set)
    app = SupportApp(settings)  # never started: its worker and relay stay off (see above)
    try:
        await upgrade(app.database)
        public_url = settings.serving.public_url or f"http://localhost:{port}"
        site = dashboard_site(app, public_url=public_url)
        runner, bound = await start_site(site, "0.0.0.0", port)  # noqa: S104 - as `run --http`
        try:
            click.echo(f"dashboard on   {public_url}{DASHBOARD_PATH}/ (port {bound})")
            await stopping.wait()
        finally:
            await runner.cleanup()
    finally:
        await app.stop()


def print_link(ctx: click.Context, user_id: str, platform: str, workspace: str | None) -> None:
    """Print a login URL for `user_id` if they lead a workspace on `platform`, else exit 1."""
    import asyncio

    settings = settings_of(ctx)
    try:
        url, led = asyncio.run(_issue(settings, user_id, platform, workspace))
    except ConfigError as exc:
        raise SettingsProblem(str(exc)) from None
    except Exception as exc:
        raise click.ClickException(
            f"cannot make a login link ({type(exc).__name__}); run `supportbot doctor`"
        ) from None
    if url is None:
        where = f" of {workspace}" if workspace else ""
        click.echo(
            f"{user_id} is not a support lead{where} on {platform}; leads are named in "
            "SUPPORTBOT_LEAD_USER_IDS or a team's lead_user_ids. Leads by Discord role or "
            "Slack user group: ask for a link in chat with /support dashboard.",
            err=True,
        )
        ctx.exit(NOT_A_LEAD)
    minutes = settings.serving.dashboard_link_minutes
    click.echo(url)
    click.echo(
        f"(works once, for {minutes} minutes; signs {user_id} in to {', '.join(led)})", err=True
    )


async def _issue(
    settings: Settings, user_id: str, platform: str, workspace: str | None
) -> tuple[str | None, tuple[str, ...]]:
    """The URL (None for a non-lead) and the workspaces it opens."""
    from sqlalchemy import select

    from bot.desk.dashboard_access import workspaces_led_by_id
    from bot.desk.leads import Leads
    from bot.events import Platform
    from bot.store.logins import LoginLinks
    from bot.store.migrate import upgrade
    from bot.store.models import Ticket

    # By id only: roles and user groups are known in chat, not here.
    leads = Leads.of(settings.leads.user_ids, ())
    async with _database(settings) as database:
        await upgrade(database)
        async with database.sessions() as session:
            seen = await session.scalars(
                select(Ticket.workspace_id).where(Ticket.platform == platform).distinct()
            )
            led = workspaces_led_by_id(
                leads,
                settings.playbooks,
                platform=Platform(platform),
                user_id=user_id,
                workspace=workspace,
                seen=list(seen),
            )
        if not led:
            return None, ()
        url = await LoginLinks.of(database.sessions, settings.serving).issue(
            platform=platform,
            user_id=user_id,
            workspaces=led,
            now=datetime.now(UTC),
            issued_by="cli:operator",
        )
    return url, led
