"""Actions on the dashboard are the desk's: claim, resolve, reopen and reclassify are
audited and mirrored to the ticket's chat cards; the desk's refusals show on the ticket
page; another workspace's ticket is a 404 and stays as it was; no CSRF token, no change.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import func, select

from bot.dashboard.app import dashboard_site, start_site
from bot.events import Ephemeral, PostReply, UpdateCard
from bot.store.db import Database
from bot.store.models import AuditEntry, OutboxItem, Ticket, TriageRun
from tests.adapters.slack.harness import mention_envelope, slack_stack
from tests.bot.harness import RecordingOutlet
from tests.browser.stack import TWO, Dashboard, running_dashboard
from tests.fakes.slack import FakeSlack
from tests.settle import wait_delivered

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def _csrf(client: httpx.AsyncClient, ticket_id: int) -> str:
    """The CSRF token the ticket page's forms carry, as a browser would read it."""
    page = await client.get(f"/dashboard/tickets/{ticket_id}")
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found is not None, "the ticket page has no form with a CSRF token"
    return found.group(1)


async def _act(
    client: httpx.AsyncClient, ticket_id: int, action: str, **fields: str
) -> httpx.Response:
    form = {"csrf": await _csrf(client, ticket_id), **fields}
    return await client.post(f"/dashboard/tickets/{ticket_id}/{action}", data=form)


async def _ticket(stack: Dashboard, ticket_id: int) -> Ticket:
    async with stack.app.database.sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


async def _audit(stack: Dashboard, ticket_id: int) -> list[tuple[str, str]]:
    async with stack.app.database.sessions() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.target == f"ticket:{ticket_id}")
        )
        return [(row.actor, row.action) for row in rows]


async def _count(stack: Dashboard, model: Any) -> int:
    async with stack.app.database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_claim_is_the_desks_claim_audited_and_on_every_card(db: Database) -> None:
    async with running_dashboard(db) as stack:
        ticket_id = stack.ticket("I was charged")
        cards_before = [c for c in stack.outlet.cards() if c.card.ticket_id == ticket_id]
        async with stack.signed_in() as client:
            done = await _act(client, ticket_id, "claim")
            assert done.status_code == 303
            assert done.headers["Location"] == f"/dashboard/tickets/{ticket_id}?done=claimed"
            page = await client.get(done.headers["Location"])
        assert await wait_delivered(stack.app) == 0
        ticket = await _ticket(stack, ticket_id)
        audit = await _audit(stack, ticket_id)
    assert page.status_code == 200
    assert f"Ticket #{ticket_id} claimed." in page.text
    assert (ticket.status, ticket.assignee_id) == ("claimed", "U_LEAD")
    assert ("slack:U_LEAD", "ticket.claimed") in audit
    # The thread card and the leads' escalation card, both re-rendered as claimed.
    updates = [r for r in stack.outlet.sent if isinstance(r, UpdateCard)]
    assert len(cards_before) == 2
    assert len(updates) == 2
    assert {u.card.status for u in updates} == {"claimed"}
    assert {u.ref.place.channel_id for u in updates} == {"C_HELP", "C_LEADS_ONE"}
    notes = [r.text for r in stack.outlet.sent if isinstance(r, PostReply) and r.text]
    assert any("has claimed this ticket" in (text or "") for text in notes)


async def test_resolve_and_reopen_from_the_dashboard(db: Database) -> None:
    async with running_dashboard(db) as stack:
        ticket_id = stack.ticket("The export button")
        async with stack.signed_in() as client:
            resolved = await _act(client, ticket_id, "resolve")
            status_resolved = (await _ticket(stack, ticket_id)).status
            reopened = await _act(client, ticket_id, "reopen")
        ticket = await _ticket(stack, ticket_id)
        audit = await _audit(stack, ticket_id)
    assert resolved.headers["Location"].endswith("?done=resolved")
    assert reopened.headers["Location"].endswith("?done=reopened")
    assert status_resolved == "resolved"
    assert ticket.status == "open"
    assert ("slack:U_LEAD", "ticket.resolved") in audit
    assert ("slack:U_LEAD", "ticket.reopened") in audit


async def test_reclassify_sets_the_labels_audits_and_keeps_a_human_verdict(db: Database) -> None:
    async with running_dashboard(db) as stack:
        ticket_id = stack.ticket("I was charged")
        async with stack.signed_in() as client:
            done = await _act(client, ticket_id, "reclassify", category="account", urgency="high")
            page = await client.get(done.headers["Location"])
        assert await wait_delivered(stack.app) == 0
        ticket = await _ticket(stack, ticket_id)
        audit = await _audit(stack, ticket_id)
        async with stack.app.database.sessions() as session:
            human = (
                await session.scalars(
                    select(TriageRun).where(
                        TriageRun.ticket_id == ticket_id, TriageRun.source == "human"
                    )
                )
            ).one()
    assert done.status_code == 303
    assert f"Ticket #{ticket_id} reclassified." in page.text
    assert (ticket.category, ticket.urgency) == ("account", "high")
    assert ("slack:U_LEAD", "ticket.reclassified") in audit
    assert human.result["by"] == "slack:U_LEAD"
    updates = [r for r in stack.outlet.sent if isinstance(r, UpdateCard)]
    assert {u.card.category for u in updates} == {"account"}


async def test_the_desks_refusal_is_shown_on_the_ticket_page_not_in_chat(db: Database) -> None:
    async with running_dashboard(db) as stack:
        ticket_id = stack.ticket("I was charged")
        async with stack.signed_in() as client:
            await _act(client, ticket_id, "claim")
            again = await _act(client, ticket_id, "claim")
            assert again.status_code == 303
            assert "?refused=" in again.headers["Location"]
            page = await client.get(again.headers["Location"])
            unknown = await _act(client, ticket_id, "reclassify", category="nonsense")
            unknown_page = await client.get(unknown.headers["Location"])
            nothing = await _act(client, ticket_id, "reclassify")
            nothing_page = await client.get(nothing.headers["Location"])
        assert await wait_delivered(stack.app) == 0
        ticket = await _ticket(stack, ticket_id)
        async with stack.app.database.sessions() as session:
            notes = (
                await session.scalars(select(OutboxItem).where(OutboxItem.kind == "ephemeral"))
            ).all()
    assert page.status_code == 200
    assert f"Ticket #{ticket_id} is claimed; it can&#39;t be claimed now." in page.text
    assert "“nonsense” is not a category or an urgency here." in unknown_page.text
    assert "Pick a category" in nothing_page.text
    assert ticket.category != "nonsense"
    # The page delivered the three notes: none went to Slack as well.
    assert len(notes) == 3
    assert {note.status for note in notes} == {"sent"}
    assert not [r for r in stack.outlet.sent if isinstance(r, Ephemeral)]


async def test_a_refusal_link_shows_nothing_it_did_not_say_to_this_lead(db: Database) -> None:
    async with running_dashboard(db) as stack:
        ticket_id = stack.ticket("I was charged")
        async with stack.signed_in() as lead:
            await _act(lead, ticket_id, "claim")
            again = await _act(lead, ticket_id, "claim")
        async with stack.signed_in("U_OTHER_LEAD") as other:
            theirs = await other.get(again.headers["Location"])
            made_up = await other.get(f"/dashboard/tickets/{ticket_id}?refused=Your+boss+says+hi")
    assert theirs.status_code == 200
    assert "can&#39;t be claimed now" not in theirs.text
    assert "Your boss says hi" not in made_up.text


async def test_someone_no_longer_a_lead_is_refused_and_audited(db: Database) -> None:
    async with running_dashboard(db) as stack:
        ticket_id = stack.ticket("I was charged")
        # A link issued while U_FORMER led; the desk's leads no longer name them.
        async with stack.signed_in("U_FORMER") as client:
            refused = await _act(client, ticket_id, "claim")
            page = await client.get(refused.headers["Location"])
        ticket = await _ticket(stack, ticket_id)
        audit = await _audit(stack, ticket_id)
    assert "Only support leads can use these buttons." in page.text
    assert ticket.status == "escalated"
    assert ("slack:U_FORMER", "action.refused") in audit


async def test_another_workspaces_ticket_is_a_404_and_nothing_changes(db: Database) -> None:
    async with running_dashboard(db) as stack:
        theirs = stack.ticket("Our zebra account")
        mine = stack.ticket("I was charged")
        async with stack.signed_in() as client:
            token = await _csrf(client, mine)
            before = (await _count(stack, AuditEntry), await _count(stack, OutboxItem))
            answers = [
                await client.post(f"/dashboard/tickets/{ticket_id}/{action}", data=form)
                for ticket_id in (theirs, 999_999, 2**40)
                for action, form in (
                    ("claim", {"csrf": token}),
                    ("reclassify", {"csrf": token, "category": "bug"}),
                )
            ]
            after = (await _count(stack, AuditEntry), await _count(stack, OutboxItem))
        ticket = await _ticket(stack, theirs)
    assert [a.status_code for a in answers] == [404] * 6
    assert "zebra" not in answers[0].text
    assert f"There is no ticket #{theirs} here." in answers[0].text
    assert before == after
    assert ticket.workspace_id == TWO
    assert (ticket.status, ticket.category, ticket.assignee_id) == ("escalated", "account", None)


async def test_an_action_without_the_csrf_token_is_refused(db: Database) -> None:
    async with running_dashboard(db) as stack:
        ticket_id = stack.ticket("I was charged")
        async with stack.signed_in() as client:
            missing = await client.post(f"/dashboard/tickets/{ticket_id}/claim", data={})
            wrong = await client.post(
                f"/dashboard/tickets/{ticket_id}/claim", data={"csrf": "not-the-token"}
            )
        anonymous = await httpx.AsyncClient(base_url=stack.base).post(
            f"/dashboard/tickets/{ticket_id}/claim", data={"csrf": "x"}
        )
        ticket = await _ticket(stack, ticket_id)
        audit = await _audit(stack, ticket_id)
    assert (missing.status_code, wrong.status_code, anonymous.status_code) == (403, 403, 401)
    assert ticket.status == "escalated"
    assert not [action for _, action in audit if action in ("ticket.claimed", "action.refused")]


async def test_a_dashboard_claim_updates_the_cards_in_slack(db: Database) -> None:
    async with FakeSlack() as fake, slack_stack(db, fake, None) as slack:
        await slack.post_json(mention_envelope("I was charged twice"))
        assert await slack.settle("Ev0001") == "done"
        async with slack.app.database.sessions() as session:
            ticket_id = (await session.scalars(select(Ticket.id))).one()
        assert fake.calls_to("chat.update") == []
        site = dashboard_site(slack.app, public_url="http://127.0.0.1")
        runner, port = await start_site(site, "127.0.0.1", 0)
        try:
            stack = Dashboard(slack.app, RecordingOutlet(), f"http://127.0.0.1:{port}")
            team = slack.adapter.team_id
            assert team is not None
            async with stack.signed_in("U_LEAD", workspaces=(team,)) as client:
                done = await _act(client, ticket_id, "claim")
            assert done.status_code == 303
            assert await wait_delivered(slack.app) == 0
        finally:
            await runner.cleanup()
    updates = fake.calls_to("chat.update")
    # The card in the ticket's thread and the one in the leads channel, both claimed.
    assert {u.params["channel"] for u in updates} == {"C_HELP", "C_LEADS"}
    assert all("claimed" in u.blocks[0]["text"]["text"] for u in updates)
    assert all(f"#{ticket_id}" in str(u.blocks) for u in updates)


async def test_a_label_with_the_desks_separators_is_a_400_page(db: Database) -> None:
    async with running_dashboard(db) as stack:
        ticket_id = stack.ticket("I was charged")
        async with stack.signed_in() as client:
            before = await _count(stack, AuditEntry)
            smuggled = await _act(client, ticket_id, "reclassify", category="bug:urgency=low")
            after = await _count(stack, AuditEntry)
        ticket = await _ticket(stack, ticket_id)
    assert smuggled.status_code == 400
    assert "is not a category" in smuggled.text
    assert before == after
    assert (ticket.category, ticket.urgency) == ("billing", "high")
