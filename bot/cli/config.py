"""`supportbot config`: the effective settings, and `config check` for a configuration file."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from bot.cli import SettingsProblem, cli, extensions_of, sections_of, settings_of

if TYPE_CHECKING:
    from bot.config.playbook import Playbook

__all__ = ["config_group"]


@cli.group("config", invoke_without_command=True)
@click.pass_context
def config_group(ctx: click.Context) -> None:
    """Print the effective settings (secrets masked); `config check` validates a file."""
    if ctx.invoked_subcommand is not None:
        return
    shown = settings_of(ctx).masked()
    shown.update(kv for section in sections_of(ctx).values() for kv in section.masked().items())
    width = max(map(len, shown))
    for name, value in shown.items():
        click.echo(f"{name.ljust(width)}  {value or '(not set)'}")


def _describe(where: str, playbook: Playbook, digests: dict[str, str]) -> list[str]:
    taxonomy = playbook.taxonomy
    lines = [
        f"{where}: {len(taxonomy.categories)} categories ({', '.join(taxonomy.names)}), "
        f"{len(playbook.teams)} teams, {len(playbook.routes)} routing rules",
    ]
    lines += [f"  prompt {name:<16} {digest}" for name, digest in digests.items()]
    return lines


@config_group.command("check")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.pass_context
def config_check(ctx: click.Context, file: str | None) -> None:
    """Validate FILE (default: --config or SUPPORTBOT_CONFIG): one line per problem, naming
    the key; for a good file, what each workspace's playbook holds and its prompts' hashes."""
    from bot.config.check import check_config

    path = file or ctx.obj.get("config_file") or os.environ.get("SUPPORTBOT_CONFIG")
    if path is None:
        raise click.UsageError("name a file: supportbot config check FILE")
    extensions = {e.name: e.settings for e in extensions_of(ctx)}
    report = check_config(path, extensions)
    if report.problems or report.playbooks is None:
        raise SettingsProblem(
            f"{path}: {len(report.problems)} problem(s)\n  " + "\n  ".join(report.problems)
        )
    from triage.prompts import PromptBook, prompt_digests

    book = PromptBook()
    click.echo(f"{path}: ok")
    for workspace, playbook in report.playbooks.all().items():
        where = f"workspace {workspace}" if workspace else "default"
        for line in _describe(where, playbook, prompt_digests(book, playbook)):
            click.echo(line)
