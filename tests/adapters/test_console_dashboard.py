"""`/dashboard` in the terminal channel: the terminal's user is a lead of its tickets
and gets a one-time login link for the terminal's workspace."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from adapters.console import HELP
from bot.store.db import Database
from bot.store.models import LoginLink
from tests.cli_runner import clean_env, run_cli

LINK = re.compile(r"http://localhost:4111/dashboard/login/[A-Za-z0-9_-]+")


async def test_dashboard_in_the_terminal_prints_a_private_link(
    db: Database, tmp_path: Path
) -> None:
    env = clean_env(DATABASE_URL=db.url, SUPPORTBOT_HTTP_PORT="4111")
    outcome = await run_cli("chat", cwd=tmp_path, env=env, stdin="/dashboard\n/quit\n")
    assert outcome.code == 0, outcome.stderr
    assert "(only you can see this)" in outcome.stdout
    assert "works once, for 10 minutes" in outcome.stdout
    (url,) = LINK.findall(outcome.stdout)
    async with db.sessions() as session:
        link = (await session.scalars(select(LoginLink))).one()
    assert (link.platform, link.user_id, link.workspaces) == ("console", "you", ["local"])
    assert url.rsplit("/", 1)[1] not in str(link.token_hash)


def test_the_terminals_help_lists_dashboard() -> None:
    assert "/dashboard" in HELP
