"""`supportbot web --link USER_ID`: a one-time login URL for a lead, and none for anyone
else, as an operator runs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from adapters.console import WORKSPACE
from bot.desk.dashboard_access import CONSOLE_WORKSPACE
from bot.store.db import Database
from bot.store.logins import redeem_link
from bot.store.models import AuditEntry, LoginLink, Ticket
from tests.cli_runner import Outcome, clean_env, run_cli

PUBLIC = "https://support.example.test"
CONFIG = """
[[teams]]
name = "billing"
lead_user_ids = ["U_ANN"]

[workspaces.T_TWO]
[[workspaces.T_TWO.teams]]
name = "crashes"
lead_user_ids = ["U_TWO"]
"""


async def _web(db: Database, tmp_path: Path, *args: str) -> Outcome:
    config = tmp_path / "supportbot.toml"
    config.write_text(CONFIG, encoding="utf-8")
    env = clean_env(
        DATABASE_URL=db.url,
        SUPPORTBOT_LEAD_USER_IDS="U_LEAD",
        SUPPORTBOT_PUBLIC_URL=PUBLIC,
        SUPPORTBOT_CONFIG=str(config),
    )
    return await run_cli("web", *args, cwd=tmp_path, env=env)


async def _tickets_in(db: Database, *workspaces: tuple[str, str]) -> None:
    async with db.sessions.begin() as session:
        for number, (platform, workspace) in enumerate(workspaces):
            session.add(
                Ticket(
                    platform=platform,
                    workspace_id=workspace,
                    channel_id="C_HELP",
                    thread_id=f"1700000000.{number:06d}",
                    requester_id="U_REQ",
                )
            )


async def _links(db: Database) -> list[tuple[str, str, list[str]]]:
    async with db.sessions() as session:
        rows = (await session.scalars(select(LoginLink).order_by(LoginLink.id))).all()
    return [(row.platform, row.user_id, row.workspaces) for row in rows]


def _url(outcome: Outcome) -> str:
    assert outcome.code == 0, outcome.stderr
    (url,) = outcome.stdout.split()
    assert url.startswith(f"{PUBLIC}/dashboard/login/")
    return url


async def test_a_desk_lead_gets_a_url_for_every_workspace_of_theirs_with_tickets(
    db: Database, tmp_path: Path
) -> None:
    await _tickets_in(db, ("slack", "T_ACME"), ("slack", "T_BETA"), ("discord", "9001"))
    outcome = await _web(db, tmp_path, "--link", "U_LEAD", "--platform", "slack")
    url = _url(outcome)
    assert "works once, for 10 minutes" in outcome.stderr
    assert "T_ACME, T_BETA" in outcome.stderr
    # The printed URL opens a session for exactly those workspaces.
    async with db.sessions.begin() as session:
        opened = await redeem_link(
            session, url.rsplit("/", 1)[1], datetime.now(UTC), session_ttl=timedelta(hours=1)
        )
    assert opened is not None
    assert (opened.row.platform, opened.row.workspaces) == ("slack", ["T_ACME", "T_BETA"])
    async with db.sessions() as session:
        audit = (await session.scalars(select(AuditEntry))).one()
    assert (audit.actor, audit.action, audit.target) == (
        "cli:operator",
        "dashboard.link_issued",
        "slack:U_LEAD",
    )


async def test_a_desk_lead_may_name_a_workspace_with_no_tickets_yet(
    db: Database, tmp_path: Path
) -> None:
    _url(await _web(db, tmp_path, "--link", "U_LEAD", "--workspace", "T_NEW"))
    assert await _links(db) == [("slack", "U_LEAD", ["T_NEW"])]


async def test_a_team_lead_leads_the_workspace_whose_playbook_names_them(
    db: Database, tmp_path: Path
) -> None:
    await _tickets_in(db, ("slack", "T_ACME"))
    _url(await _web(db, tmp_path, "--link", "U_TWO", "--platform", "slack"))
    _url(await _web(db, tmp_path, "--link", "U_ANN"))  # the default playbook's team: T_ACME
    refused = await _web(db, tmp_path, "--link", "U_TWO", "--workspace", "T_ACME")
    assert refused.code == 1
    assert refused.stdout == ""
    assert "U_TWO is not a support lead of T_ACME on slack" in refused.stderr
    assert await _links(db) == [("slack", "U_TWO", ["T_TWO"]), ("slack", "U_ANN", ["T_ACME"])]


async def test_the_terminals_user_leads_the_terminals_workspace(
    db: Database, tmp_path: Path
) -> None:
    _url(await _web(db, tmp_path, "--link", "you"))
    refused = await _web(db, tmp_path, "--link", "you", "--workspace", "T_ACME")
    assert refused.code == 1
    assert await _links(db) == [("console", "you", ["local"])]
    assert CONSOLE_WORKSPACE == WORKSPACE  # the core's copy of the adapter's constant


async def test_someone_who_leads_nothing_gets_no_url_and_status_1(
    db: Database, tmp_path: Path
) -> None:
    await _tickets_in(db, ("slack", "T_ACME"), ("discord", "9001"))
    for args in (
        ("U_NOBODY",),
        ("4242", "--platform", "discord"),
        ("bob", "--platform", "console"),
    ):
        outcome = await _web(db, tmp_path, "--link", *args)
        assert outcome.code == 1
        assert outcome.stdout == ""
        assert "/dashboard/login/" not in outcome.stderr
        line = outcome.stderr.strip()
        assert "\n" not in line
        assert f"{args[0]} is not a support lead on" in line
        assert "/support dashboard" in line  # where role-based leads get theirs
    assert await _links(db) == []


async def test_serving_options_and_link_options_do_not_mix(db: Database, tmp_path: Path) -> None:
    mixed = await _web(db, tmp_path, "--link", "U_LEAD", "--port", "8080")
    assert mixed.code == 2
    assert "--port is for serving" in mixed.stderr
    stray = await _web(db, tmp_path, "--workspace", "T_ACME")
    assert stray.code == 2
    assert "go with --link" in stray.stderr


async def test_a_public_url_that_is_not_http_is_a_settings_problem(
    db: Database, tmp_path: Path
) -> None:
    env = clean_env(DATABASE_URL=db.url, SUPPORTBOT_PUBLIC_URL="support.example.test")
    outcome = await run_cli("web", "--link", "you", cwd=tmp_path, env=env)
    assert outcome.code == 2
    assert "SUPPORTBOT_PUBLIC_URL" in outcome.stderr
    assert outcome.stdout == ""
