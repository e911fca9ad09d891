"""The admin commands (config, db, doctor, costs, tickets, forget; `kb`, `report`,
`triage` and `eval`, `web` in their own modules here); with `adapters/cli.py` (`run`,
`chat`) the only place that turns errors into exit codes.

Defining the commands imports only click: each command imports what it uses when it
runs (settings are pydantic models; the database, the model client and asyncio are
heavier still), so `supportbot --help` starts in a few tens of milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import click

from bot import ConfigError

if TYPE_CHECKING:
    from bot.config import Section, Settings

PLATFORMS = ("slack", "discord", "console")
"""The values of `bot.events.Platform`, spelled out for `forget --platform` because
`bot.events` is pydantic models (tests/test_cold_start.py checks the two agree)."""


class SettingsProblem(click.ClickException):
    """A bad setting: one line naming it, exit status 2 (as for a bad option)."""

    exit_code = 2


@dataclass(frozen=True)
class Extension:
    """What a platform adapter adds to the CLI: its settings group and its doctor checks.

    The CLI is given a function returning the extensions (`obj={"extensions": ...}`),
    called by the first command that reads settings: settings groups are pydantic models,
    which `--help` does not need.
    """

    name: str
    settings: type[Section]
    checks: Callable[[Any], Awaitable[Any]]
    """Given the loaded settings group: a `Check` or a list of them."""


def extensions_of(ctx: click.Context) -> tuple[Extension, ...]:
    """The platform extensions this CLI was started with (loaded once, on first use)."""
    if "loaded_extensions" not in ctx.obj:
        load = ctx.obj.get("extensions")
        ctx.obj["loaded_extensions"] = tuple(load()) if load is not None else ()
    return ctx.obj["loaded_extensions"]


def _load(ctx: click.Context) -> None:
    from bot.config import load_section, load_settings
    from bot.llm.pricing import PriceTable
    from bot.ops.logs import configure_logging, log_filters

    config_file = ctx.obj.get("config_file")
    try:
        settings = load_settings(config_file)
        sections = {e.name: load_section(e.settings, config_file) for e in extensions_of(ctx)}
        try:  # read the prices file now: a bad one stops the command before it starts
            PriceTable.load(settings.llm.prices_file)
        except ConfigError as exc:
            raise ConfigError(f"SUPPORTBOT_PRICES_FILE: {exc}") from None
    except ConfigError as exc:
        raise SettingsProblem(str(exc)) from None
    filters = log_filters(settings, sections.values())
    configure_logging(settings.serving.log_level, settings.serving.log_format, filters)
    ctx.obj["settings"], ctx.obj["sections"] = settings, sections


def settings_of(ctx: click.Context) -> Settings:
    """The validated settings for this invocation (loaded once; a bad one exits with one line)."""
    if "settings" not in ctx.obj:
        _load(ctx)
    return ctx.obj["settings"]


def sections_of(ctx: click.Context) -> dict[str, Section]:
    """Each extension's settings group by extension name, validated like `settings_of`."""
    settings_of(ctx)
    return ctx.obj["sections"]


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


@cli.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or migrate the database schema to the newest version."""
    import asyncio

    from bot.store.migrate import head_revision, upgrade

    settings = settings_of(ctx)

    async def go() -> None:
        async with _database(settings) as database:
            await upgrade(database)

    try:
        asyncio.run(go())
    except ConfigError as exc:
        raise SettingsProblem(str(exc)) from None
    except Exception as exc:
        raise click.ClickException(
            f"database upgrade failed ({type(exc).__name__}); check DATABASE_URL"
        ) from None
    click.echo(f"database schema at {head_revision()}")


@cli.command()
@click.option(
    "--only",
    multiple=True,
    help="Run only these checks: database, deepseek, or a platform such as slack or discord "
    "(e.g. --only database for a container health check).",
)
@click.pass_context
def doctor(ctx: click.Context, only: tuple[str, ...]) -> None:
    """Check the database, DeepSeek and each platform; exit 1 if anything fails."""
    import asyncio

    from bot.ops.doctor import core_checks, run_checks

    sections = sections_of(ctx)
    named = core_checks(settings_of(ctx))
    named += [(e.name, partial(e.checks, sections[e.name])) for e in extensions_of(ctx)]
    unknown = set(only) - {name for name, _ in named}
    if unknown:
        known = ", ".join(name for name, _ in named)
        raise click.BadParameter(f"no check named {', '.join(sorted(unknown))}; known: {known}")
    checks = asyncio.run(run_checks([(name, fn) for name, fn in named if not only or name in only]))
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
    import asyncio

    from bot.reports.costs import BadWindow, cost_report, parse_since, render_costs

    try:
        window = parse_since(since)
    except BadWindow as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    settings = settings_of(ctx)

    async def go() -> dict[str, Any]:
        async with _database(settings) as database:
            report = await cost_report(database.sessions, datetime.now(UTC) - window, workspace)
        return report.as_dict()

    try:
        report = asyncio.run(go())
    except Exception as exc:
        raise click.ClickException(
            f"cannot read costs ({type(exc).__name__}); run `supportbot doctor`"
        ) from None
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(render_costs(report))


@cli.command()
@click.argument("user")
@click.option(
    "--platform",
    type=click.Choice(PLATFORMS, case_sensitive=False),  # `slack` as documented; `SLACK` too
    default=None,
    help="Only this platform (default: every platform).",
)
@click.pass_context
def forget(ctx: click.Context, user: str, platform: str | None) -> None:
    """Erase the stored text of every message USER (a platform user id) wrote."""
    import asyncio

    erased = asyncio.run(_forget(settings_of(ctx), user, platform))
    click.echo(f"erased the text of {erased} message(s) by {user}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--limit", default=50, show_default=True, help="Newest N tickets.")
@click.pass_context
def tickets(ctx: click.Context, as_json: bool, limit: int) -> None:
    """List tickets, newest first."""
    import asyncio

    from bot.reports.tickets import ticket_lines

    rows = asyncio.run(_tickets(settings_of(ctx), limit))
    click.echo(json.dumps(rows, indent=2) if as_json else "\n".join(ticket_lines(rows)))


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[Any]:
    """The database for one admin command, disposed after."""
    from bot.store.db import Database

    database = Database(settings.storage.database_url)
    try:
        yield database
    finally:
        await database.dispose()


@asynccontextmanager
async def app_for(settings: Settings) -> AsyncIterator[Any]:
    """A migrated SupportApp for one admin command (imported late: `--help` stays fast)."""
    from bot.app import SupportApp
    from bot.store.migrate import upgrade

    app = SupportApp(settings)
    try:
        await upgrade(app.database)
        yield app
    finally:
        await app.stop()


async def _forget(settings: Settings, user: str, platform: str | None) -> int:
    from bot.tickets.erasure import erase_user

    async with app_for(settings) as app:
        now, actor = datetime.now(UTC), "cli:operator"
        return await erase_user(
            app.database.sessions, user_id=user, actor=actor, now=now, platform=platform
        )


async def _tickets(settings: Settings, limit: int) -> list[dict[str, Any]]:
    from bot.flow.grounding import latest_retrieval
    from bot.tickets.queries import newest_tickets

    async with app_for(settings) as app, app.database.sessions() as session:
        return [
            {**ticket.as_row(), "retrieval": await latest_retrieval(session, ticket.id)}
            for ticket in await newest_tickets(session, limit)
        ]


from bot.cli import config as _config  # noqa: E402, F401  (registers `supportbot config`)
from bot.cli import kb as _kb  # noqa: E402, F401  (registers `supportbot kb`)
from bot.cli import report as _report  # noqa: E402, F401  (registers `supportbot report`)
from bot.cli import triage as _triage  # noqa: E402, F401  (registers `triage`, `eval`)
from bot.cli import web as _web  # noqa: E402, F401  (registers `supportbot web`)
