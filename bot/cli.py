"""The `supportbot` command. The only place that turns errors into exit codes."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from bot.config import Settings, SettingsError, load_settings
from bot.logs import SecretsFilter, configure_logging

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def log_filters(settings: Settings) -> list[logging.Filter]:
    """Scrub secrets' values and personal data out of every log line."""
    from bot.privacy import RedactingFilter, Redactor

    redactor = Redactor(enabled=settings.redaction, extra_patterns=settings.redaction_patterns)
    return [SecretsFilter(settings.secret_values()), RedactingFilter(redactor)]


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.obj.get("settings")
    if settings is None:
        try:
            settings = load_settings(ctx.obj.get("config_file"))
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None
        configure_logging(settings.log_level, settings.log_format, log_filters(settings))
        ctx.obj["settings"] = settings
    return settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="TOML settings file (or set SUPPORTBOT_CONFIG).",
)
@click.pass_context
def cli(ctx: click.Context, config_file: str | None) -> None:
    """supportbot: AI triage and tickets for Slack and Discord, with the cost of every call."""
    ctx.ensure_object(dict)
    ctx.obj["config_file"] = config_file


@cli.command("config")
@click.pass_context
def config_cmd(ctx: click.Context) -> None:
    """Print the effective settings (secrets masked)."""
    shown = _settings(ctx).masked()
    width = max(map(len, shown))
    for name, value in shown.items():
        click.echo(f"{name.ljust(width)}  {value or '(not set)'}")


@cli.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or migrate the database schema to the newest version."""
    from bot.store.db import Database
    from bot.store.migrate import head_revision, upgrade

    settings = _settings(ctx)

    async def go() -> None:
        database = Database(settings.database_url)
        try:
            await upgrade(database)
        finally:
            await database.dispose()

    try:
        _run(go())
    except Exception as exc:
        raise click.ClickException(
            f"database upgrade failed ({type(exc).__name__}); check DATABASE_URL"
        ) from None
    click.echo(f"database schema at {head_revision()}")


@cli.command()
@click.option(
    "--only",
    type=click.Choice(["database", "deepseek", "slack", "discord"]),
    multiple=True,
    help="Run only these checks (e.g. --only database for a container health check).",
)
@click.pass_context
def doctor(ctx: click.Context, only: tuple[str, ...]) -> None:
    """Check the database, DeepSeek, Slack and Discord; exit 1 if anything fails."""
    from bot.doctor import CHECKS, run_checks

    chosen = tuple(c for c in CHECKS if not only or c.__name__.removeprefix("check_") in only)
    checks = _run(run_checks(_settings(ctx), chosen))
    for check in checks:
        click.echo(check.line())
    failed = [c for c in checks if c.ok is False]
    click.echo(f"{len(failed)} check(s) failed" if failed else "all checks passed")
    ctx.exit(1 if failed else 0)


@cli.command()
@click.option("--since", default="7d", show_default=True, help="Window: 30m, 24h, 7d, 2w.")
@click.option("--workspace", default=None, help="Only this Slack team / Discord guild id.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def costs(ctx: click.Context, since: str, workspace: str | None, as_json: bool) -> None:
    """Spend on model calls by day, model, purpose and workspace."""
    from bot.reports import cost_report, parse_since
    from bot.store.db import Database

    try:
        window = parse_since(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    settings = _settings(ctx)

    async def go() -> dict[str, Any]:
        database = Database(settings.database_url)
        try:
            report = await cost_report(database.sessions, datetime.now(UTC) - window, workspace)
        finally:
            await database.dispose()
        return report.as_dict()

    try:
        report = _run(go())
    except Exception as exc:
        raise click.ClickException(
            f"cannot read costs ({type(exc).__name__}); run `supportbot doctor`"
        ) from None
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    _print_costs(report)


def _print_costs(report: dict[str, Any]) -> None:
    total = report["total"]
    click.echo(
        f"Spend since {report['since'][:16].replace('T', ' ')} UTC: "
        f"${total['cost_usd']} over {total['calls']} call(s), {total['failed']} failed"
    )
    for title, key in (
        ("day", "by_day"),
        ("model", "by_model"),
        ("purpose", "by_purpose"),
        ("workspace", "by_workspace"),
    ):
        rows = report[key]
        if not rows:
            continue
        click.echo(f"\nBy {title}:")
        width = max(len(name) for name in rows)
        for name, bucket in rows.items():
            tokens_in = bucket["cache_hit_tokens"] + bucket["cache_miss_tokens"]
            click.echo(
                f"  {name.ljust(width)}  ${bucket['cost_usd']:<14} "
                f"{bucket['calls']:>6} calls  {tokens_in:>9} in"
                f"  {bucket['completion_tokens']:>8} out"
            )


def _register_support_commands() -> None:
    from bot.cli_support import register

    register(cli, _settings)


_register_support_commands()


def main() -> None:
    """Console-script entry point."""
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
