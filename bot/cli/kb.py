"""`supportbot kb ...`: add, refresh, list, remove, search and evaluate the knowledge base."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from bot import ConfigError
from bot.cli import SettingsProblem, app_for, cli, settings_of

__all__ = ["kb"]

T = TypeVar("T")


def _run(ctx: click.Context, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(app)` on a migrated app; a source or setting problem is one line."""
    import asyncio

    from bot.knowledge.sources import SourceError

    async def go() -> T:
        async with app_for(settings_of(ctx)) as app:
            return await work(app)

    try:
        return asyncio.run(go())
    except ConfigError as exc:
        raise SettingsProblem(str(exc)) from None
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None


@cli.group("kb")
def kb() -> None:
    """The knowledge base the bot answers from: your docs, and answers saved from tickets."""


@kb.command("add")
@click.argument("locations", nargs=-1, required=True)
@click.option("--base-url", default=None, help="Public docs site of a folder, for links.")
@click.option("--workspace", default=None, help="Only this Slack team / Discord guild id.")
@click.option("--max-pages", default=200, show_default=True, help="Pages to read from a site.")
@click.pass_context
def kb_add(
    ctx: click.Context,
    locations: tuple[str, ...],
    base_url: str | None,
    workspace: str | None,
    max_pages: int,
) -> None:
    """Add (or re-sync) folders, files, web pages or sitemap.xml URLs."""

    async def work(app: Any) -> list[str]:
        lines = []
        for location in locations:
            report = await app.knowledge.add(
                location, workspace_id=workspace, base_url=base_url, max_pages=max_pages
            )
            lines.append(report.line())
        return lines

    for line in _run(ctx, work):
        click.echo(line)


@kb.command("refresh")
@click.pass_context
def kb_refresh(ctx: click.Context) -> None:
    """Re-sync every source: changed pages re-indexed, vanished ones dropped."""
    reports = _run(ctx, lambda app: app.knowledge.refresh())
    for report in reports:
        click.echo(report.line())
    if not reports:
        click.echo("no sources yet; add one with `supportbot kb add PATH_OR_URL`")


@kb.command("list")
@click.option("--kind", type=click.Choice(["docs", "ticket"]), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def kb_list(ctx: click.Context, kind: str | None, as_json: bool) -> None:
    """List the documents, by source."""
    rows = _run(ctx, lambda app: app.knowledge.documents(kind))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        where = f" [{row['workspace']}]" if row["workspace"] else ""
        click.echo(
            f"{row['kind']:6} {row['location']}{where}  {row['title']}  ({row['chunks']} chunks)"
        )
    click.echo(f"{len(rows)} document(s)")


@kb.command("remove")
@click.argument("source")
@click.option("--workspace", default=None, help="The workspace the source was added for.")
@click.pass_context
def kb_remove(ctx: click.Context, source: str, workspace: str | None) -> None:
    """Remove a source (as added: folder, file or URL) and its documents."""
    count = _run(ctx, lambda app: app.knowledge.remove(source, workspace_id=workspace))
    click.echo(f"removed {source} ({count} document(s))")


@kb.command("search")
@click.argument("query")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 50))
@click.option("--workspace", default=None, help="Search as this Slack team / Discord guild.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def kb_search(
    ctx: click.Context, query: str, limit: int, workspace: str | None, as_json: bool
) -> None:
    """Show what the bot would retrieve for QUERY, best first."""
    hits = _run(ctx, lambda app: app.knowledge.search([query], workspace_id=workspace, limit=limit))
    if as_json:
        click.echo(json.dumps([hit.as_dict() for hit in hits], indent=2, ensure_ascii=False))
        return
    for rank, hit in enumerate(hits, start=1):
        heading = f" › {hit.heading}" if hit.heading else ""
        click.echo(f"{rank}. {hit.score:.3f}  {hit.title}{heading}  ({hit.url or hit.location})")
    if not hits:
        click.echo("nothing found")


@kb.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--workspace", default=None, help="Search as this Slack team / Discord guild.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def kb_eval(ctx: click.Context, file: str, workspace: str | None, as_json: bool) -> None:
    """Measure retrieval on JSON lines: {"question": ..., "sources": [...]}."""
    from bot.knowledge.evaluate import load_questions, run_eval

    try:
        questions = load_questions(file)
    except ConfigError as exc:  # pragma: no cover - BadQuestionsFile is a SourceError
        raise click.ClickException(str(exc)) from None
    except Exception as exc:
        raise click.ClickException(str(exc)) from None
    floor = settings_of(ctx).knowledge.min_score

    async def work(app: Any) -> Any:
        with click.progressbar(length=len(questions), label="kb eval", file=sys.stderr) as bar:
            return await run_eval(
                app.knowledge,
                questions,
                floor=floor,
                workspace_id=workspace,
                on_progress=lambda done: bar.update(done - bar.pos),
            )

    report = _run(ctx, work)
    click.echo(json.dumps(report.as_dict(), indent=2) if as_json else report.render())
