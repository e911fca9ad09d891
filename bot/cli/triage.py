"""`supportbot triage` and `supportbot eval`: the classifier on one text, or measured on
labelled cases, with the playbook of the workspace `--workspace` names."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from bot.cli import SettingsProblem, app_for, cli, settings_of

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.config.playbook import Playbook

__all__ = ["eval_cmd", "triage"]

_WORKSPACE = click.option(
    "--workspace",
    "workspace_id",
    default=None,
    help="Use this Slack team's or Discord guild's playbook (default: the default one).",
)


@cli.command()
@click.argument("text", required=False)
@_WORKSPACE
@click.pass_context
def triage(ctx: click.Context, text: str | None, workspace_id: str | None) -> None:
    """Classify TEXT (or standard input) and print one JSON object."""
    import asyncio

    if text is None:
        text = sys.stdin.read()
    settings = settings_of(ctx)
    _playbook_of(settings, workspace_id)  # an unknown workspace stops here, not mid-call
    found = asyncio.run(_triage(settings, text, workspace_id))
    click.echo(json.dumps(found, ensure_ascii=False))


@cli.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@_WORKSPACE
@click.pass_context
def eval_cmd(ctx: click.Context, file: str, as_json: bool, workspace_id: str | None) -> None:
    """Measure triage on labelled JSON lines: text, category, urgency, needs_human.

    Labels are checked against the playbook's categories; the report gives each
    category its cases, precision and recall."""
    import asyncio

    from triage.evaluate import BadEvalFile, load_labelled

    settings = settings_of(ctx)
    taxonomy = _playbook_of(settings, workspace_id).taxonomy
    try:
        cases = load_labelled(file, taxonomy)
    except BadEvalFile as exc:
        raise click.ClickException(str(exc)) from None
    report, docs = asyncio.run(_eval(settings, cases, workspace_id))
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "knowledge": docs}, indent=2))
        return
    click.echo(report.render())
    if docs is not None:
        click.echo(
            f"From the docs: {docs['answered_with_sources']} would be answered with sources, "
            f"{docs['abstained']} would go to a person (score floor {docs['floor']})"
        )


def _playbook_of(settings: Settings, workspace_id: str | None) -> Playbook:
    """The playbook `--workspace` names; a workspace the file has no table for is a typo."""
    known = settings.playbooks.workspaces
    if workspace_id is not None and workspace_id not in known:
        configured = ", ".join(sorted(known)) or "none"
        raise SettingsProblem(
            f"--workspace {workspace_id}: no [workspaces.{workspace_id}] in the configuration "
            f"(configured: {configured})"
        )
    return settings.playbooks.for_workspace(workspace_id)


async def _triage(settings: Settings, text: str, workspace_id: str | None) -> dict[str, Any]:
    from bot.llm.types import CallContext
    from triage.route import route_of

    context = CallContext(purpose="triage", workspace_id=workspace_id)
    async with app_for(settings) as app:
        found = await app.classifier.classify(text, context=context)
    playbook = _playbook_of(settings, workspace_id)
    decision = route_of(found, text, settings.llm.reasoner_confidence_threshold, playbook)
    return {**found.as_dict(), "route": decision.route.value, "route_reason": decision.reason}


async def _eval(
    settings: Settings, cases: list[Any], workspace_id: str | None
) -> tuple[Any, dict[str, Any] | None]:
    from bot.knowledge.evaluate import docs_outcomes
    from triage.evaluate import run_eval, summarize

    async with app_for(settings) as app:
        with click.progressbar(length=len(cases), label="triage", file=sys.stderr) as bar:
            records = await run_eval(
                app.classifier,
                cases,
                on_progress=lambda done: bar.update(done - bar.pos),
                workspace_id=workspace_id,
            )
        docs = None
        if await app.knowledge.covers(None):
            texts = [case.text for case in cases]
            docs = await docs_outcomes(app.knowledge, texts, app.settings.knowledge.min_score)
    return summarize(records, _playbook_of(settings, workspace_id).taxonomy), docs
