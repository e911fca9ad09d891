"""`supportbot report`: what a support lead measures, and what the docs could not answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from bot import ConfigError
from bot.cli import SettingsProblem, app_for, cli, settings_of

__all__ = ["report"]


@cli.command("report")
@click.option("--since", default="30d", show_default=True, help="Window: 30m, 24h, 7d, 2w.")
@click.option("--workspace", default=None, help="Only this Slack team / Discord guild id.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def report(ctx: click.Context, since: str, workspace: str | None, as_json: bool) -> None:
    """Deflection, response and resolution times, cost per resolved ticket, satisfaction,
    triage accuracy and coverage gaps, for the tickets opened in the window."""
    import asyncio

    from bot.reports.costs import BadWindow, parse_since

    try:
        window = parse_since(since)
    except BadWindow as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    try:
        found = asyncio.run(_report(settings_of(ctx), window, workspace))
    except ConfigError as exc:
        raise SettingsProblem(str(exc)) from None
    except Exception as exc:
        raise click.ClickException(
            f"cannot read the report ({type(exc).__name__}); run `supportbot doctor`"
        ) from None
    if as_json:
        click.echo(json.dumps(found.as_dict(), indent=2, ensure_ascii=False))
        return
    click.echo(found.render())


async def _report(settings: Any, window: timedelta, workspace: str | None) -> Any:
    from bot.reports.lead_report import lead_report

    until = datetime.now(UTC)
    async with app_for(settings) as app:
        return await lead_report(
            app.database.sessions,
            since=until - window,
            until=until,
            workspace_id=workspace,
            embedder=app.knowledge.embedder,
        )
