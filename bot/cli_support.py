"""The `supportbot` commands that run the support flow: chat, triage, tickets, eval."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy import select

from bot.app import SupportApp
from bot.config import Settings
from bot.events import Platform
from bot.llm.types import CallContext
from bot.store.migrate import upgrade
from bot.store.models import Ticket

__all__ = ["register"]

OFFLINE_NOTE = (
    "DEEPSEEK_API_KEY is not set: triage runs offline on rules, and every ticket goes to a person."
)


def register(cli: click.Group, settings_of: Any) -> None:
    """Add the support-flow commands to the `supportbot` group."""

    @cli.command()
    @click.pass_context
    def chat(ctx: click.Context) -> None:
        """Talk to the bot in this terminal, as a user and a support lead at once."""
        settings: Settings = settings_of(ctx)
        if settings.log_level != "DEBUG":  # log lines would drown the conversation
            logging.getLogger().setLevel(logging.WARNING)
        asyncio.run(_chat(settings))

    @cli.command()
    @click.option("--http", is_flag=True, help="Serve Slack over HTTP (POST /slack/events).")
    @click.option(
        "--port", type=int, default=None, help="HTTP port (default SUPPORTBOT_HTTP_PORT)."
    )
    @click.option("--metrics-port", type=int, default=None, help="Serve /metrics on this port too.")
    @click.pass_context
    def run(ctx: click.Context, http: bool, port: int | None, metrics_port: int | None) -> None:
        """Run the bot on every platform whose tokens are set."""
        from adapters.runner import serve

        settings: Settings = settings_of(ctx)
        if metrics_port is not None:
            settings = settings.model_copy(update={"metrics_port": metrics_port})
        code = asyncio.run(
            serve(settings, http=http, port=port or settings.http_port, say=click.echo)
        )
        ctx.exit(code)

    @cli.command()
    @click.argument("text", required=False)
    @click.pass_context
    def triage(ctx: click.Context, text: str | None) -> None:
        """Classify TEXT (or standard input) and print one JSON object."""
        if text is None:
            text = sys.stdin.read()
        click.echo(json.dumps(asyncio.run(_triage(settings_of(ctx), text)), ensure_ascii=False))

    @cli.command()
    @click.argument("user")
    @click.option(
        "--platform",
        type=click.Choice(["slack", "discord", "console"]),
        default=None,
        help="Only this platform (default: every platform).",
    )
    @click.pass_context
    def forget(ctx: click.Context, user: str, platform: str | None) -> None:
        """Erase the stored text of every message USER (a platform user id) wrote."""
        erased = asyncio.run(_forget(settings_of(ctx), user, platform))
        click.echo(f"erased the text of {erased} message(s) by {user}")

    @cli.command()
    @click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
    @click.option("--limit", default=50, show_default=True, help="Newest N tickets.")
    @click.pass_context
    def tickets(ctx: click.Context, as_json: bool, limit: int) -> None:
        """List tickets, newest first."""
        rows = asyncio.run(_tickets(settings_of(ctx), limit))
        if as_json:
            click.echo(json.dumps(rows, indent=2))
            return
        if not rows:
            click.echo("No tickets yet.")
        for r in rows:
            human = "needs human" if r["needs_human"] else ""
            click.echo(
                f"#{r['id']:<5} {r['platform']:<8} {r['place']:<28} {r['status']:<10} "
                f"{r['category'] or '-':<16} {r['urgency'] or '-':<7} "
                f"{r['route'] or '-':<9} {human}"
            )

    @cli.command("eval")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
    @click.pass_context
    def eval_cmd(ctx: click.Context, file: str, as_json: bool) -> None:
        """Measure triage on labelled JSON lines: text, category, urgency, needs_human."""
        from triage.evaluate import load_labelled

        try:
            cases = load_labelled(file)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        report = asyncio.run(_eval(settings_of(ctx), cases))
        click.echo(json.dumps(report.as_dict(), indent=2) if as_json else report.render())


async def _chat(settings: Settings) -> None:
    from adapters.console import ConsoleChannel, ConsoleOutlet

    app = SupportApp(settings)
    app.attach(Platform.CONSOLE, ConsoleOutlet(sys.stdout))
    async with app:
        click.echo("supportbot terminal channel. Type your question; /help lists commands.")
        if app.offline:
            click.echo(OFFLINE_NOTE)

        async def settled(event_id: str) -> object:
            return await app.inbox.wait_settled(Platform.CONSOLE.value, event_id)

        await ConsoleChannel(app.service, settled).run()


async def _triage(settings: Settings, text: str) -> dict[str, Any]:
    from triage.route import decide_route

    app = SupportApp(settings)
    try:
        await upgrade(app.database)
        found = await app.classifier.classify(text, context=CallContext(purpose="triage"))
    finally:
        await app.stop()
    decision = decide_route(
        found.result,
        source=found.source,
        text=text,
        confidence_threshold=settings.reasoner_confidence_threshold,
    )
    return {
        **found.result.model_dump(mode="json"),
        "source": found.source,
        "route": decision.route.value,
        "route_reason": decision.reason,
        "prompt_version": found.prompt_version,
        "model": found.model,
        "llm_calls": found.llm_calls,
        "corrected": found.corrected,
        "fallback_reason": found.fallback_reason,
        "tokens": {
            "cache_hit": found.usage.cache_hit_tokens,
            "cache_miss": found.usage.cache_miss_tokens,
            "completion": found.usage.completion_tokens,
            "reasoning": found.usage.reasoning_tokens,
        },
        "cost_usd": str(found.cost_usd),
        "latency_ms": found.latency_ms,
    }


async def _forget(settings: Settings, user: str, platform: str | None) -> int:
    from bot.erasure import erase_user

    app = SupportApp(settings)
    try:
        await upgrade(app.database)
        return await erase_user(
            app.database.sessions,
            user_id=user,
            actor="cli:operator",
            now=datetime.now(UTC),
            platform=platform,
        )
    finally:
        await app.stop()


async def _tickets(settings: Settings, limit: int) -> list[dict[str, Any]]:
    app = SupportApp(settings)
    try:
        await upgrade(app.database)
        async with app.database.sessions() as session:
            rows = (
                await session.scalars(select(Ticket).order_by(Ticket.id.desc()).limit(limit))
            ).all()
    finally:
        await app.stop()
    return [
        {
            "id": t.id,
            "platform": t.platform,
            "place": f"{t.workspace_id}/{t.channel_id}/{t.thread_id}",
            "status": t.status,
            "category": t.category,
            "urgency": t.urgency,
            "needs_human": t.needs_human,
            "route": t.route,
            "route_reason": t.route_reason,
            "created_at": t.created_at.isoformat(),
        }
        for t in rows
    ]


async def _eval(settings: Settings, cases: list[Any]) -> Any:
    from triage.evaluate import run_eval, summarize

    app = SupportApp(settings)
    try:
        await upgrade(app.database)
        with click.progressbar(length=len(cases), label="triage", file=sys.stderr) as bar:
            records = await run_eval(
                app.classifier, cases, on_progress=lambda done: bar.update(done - bar.pos)
            )
    finally:
        await app.stop()
    return summarize(records)
