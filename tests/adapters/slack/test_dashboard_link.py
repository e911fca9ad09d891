"""`/support dashboard` on Slack: a lead gets a one-time login link privately, with the
roles Slack knows them by; anyone else a private refusal and no link."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.config.playbook import Playbook, Playbooks, Team
from bot.store.db import Database
from bot.store.logins import redeem_link
from bot.store.models import AuditEntry, LoginLink
from tests.adapters.slack.harness import SlackStack, slack_stack
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_interactive import slash_command_form

PUBLIC = "https://support.example.test"
LINK = re.compile(rf"{re.escape(PUBLIC)}/dashboard/login/[A-Za-z0-9_-]+")
PLAYBOOKS = Playbooks(
    default=Playbook(teams=(Team(name="bugs", slack_usergroup_id="S_BUGS"),)),
)


async def _dashboard(
    stack: SlackStack, fake: FakeSlack, *, user: str, trigger: str, text: str = "dashboard"
) -> dict:
    url = fake.new_response_url()
    form = slash_command_form(text, user_id=user, response_url=url, trigger_id=trigger)
    assert (await stack.post_form(form)).status_code == 200
    assert await stack.settle(f"command:{trigger}") == "done"
    (answer,) = fake.response_posts[url.rsplit("/", 1)[-1]]
    return answer


async def _links(db: Database) -> list[LoginLink]:
    async with db.sessions() as session:
        return list((await session.scalars(select(LoginLink).order_by(LoginLink.id))).all())


async def test_a_lead_gets_a_private_link_and_anyone_else_a_refusal(
    db: Database, fake_slack: FakeSlack
) -> None:
    fake_slack.usergroup_members["S_BUGS"] = ["U_DEV"]
    async with slack_stack(db, fake_slack, None, public_url=PUBLIC, playbooks=PLAYBOOKS) as stack:
        lead = await _dashboard(stack, fake_slack, user="U_LEAD", trigger="t1")
        shared = await _dashboard(
            stack, fake_slack, user="U_LEAD", trigger="t2", text="dashboard public"
        )
        by_group = await _dashboard(stack, fake_slack, user="U_DEV", trigger="t3")
        refused = await _dashboard(stack, fake_slack, user="U_ALICE", trigger="t4")
    for answer in (lead, shared, by_group, refused):
        assert answer["response_type"] == "ephemeral"  # a link is never for the channel
    urls = [LINK.findall(json.dumps(answer)) for answer in (lead, shared, by_group)]
    assert all(urls)
    assert "works once, for 10 minutes" in lead["text"]
    assert LINK.search(json.dumps(refused)) is None
    assert "/login/" not in json.dumps(refused)
    assert "Only support leads of this workspace can open the dashboard" in refused["text"]
    links = await _links(db)
    assert [(r.platform, r.user_id, r.workspaces, r.roles) for r in links] == [
        ("slack", "U_LEAD", ["T_ACME"], []),
        ("slack", "U_LEAD", ["T_ACME"], []),
        ("slack", "U_DEV", ["T_ACME"], ["S_BUGS"]),
    ]
    # The link in the message is the one stored, and it opens a session once.
    token = urls[0][0].rsplit("/", 1)[1]
    now = datetime.now(UTC)
    async with db.sessions.begin() as session:
        opened = await redeem_link(session, token, now, session_ttl=timedelta(hours=1))
        again = await redeem_link(session, token, now, session_ttl=timedelta(hours=1))
    assert opened is not None
    assert (opened.row.user_id, opened.row.workspaces) == ("U_LEAD", ["T_ACME"])
    assert again is None
    async with db.sessions() as session:
        audit = (await session.execute(select(AuditEntry.actor, AuditEntry.action))).all()
    assert ("slack:U_ALICE", "command.refused") in audit
    assert ("slack:U_DEV", "dashboard.link_issued") in audit
