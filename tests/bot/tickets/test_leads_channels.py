"""Each workspace's leads channel, and only its own (issue 10, item 2)."""

from __future__ import annotations

from sqlalchemy import select

from bot.events import Platform
from bot.jobs.digest import run_digest
from bot.store.db import Database
from bot.store.models import Ticket
from bot.tickets.leads_channels import LeadsChannels
from tests.bot.harness import RecordingOutlet, mention, responder, running_app, settle, triage_json
from tests.fakes.deepseek import FakeDeepSeek


def test_a_bare_channel_serves_only_the_workspace_it_is_bound_to() -> None:
    channels = LeadsChannels(
        {Platform.SLACK: {"": "C_BARE", "T_TWO": "C_TWO"}, Platform.CONSOLE: {"": "leads"}}
    )
    assert channels.place("slack", "T_ONE") is None  # unbound: nobody's
    channels.bind(Platform.SLACK, "T_ONE")
    one, two = channels.place("slack", "T_ONE"), channels.place("slack", "T_TWO")
    assert one is not None
    assert two is not None
    assert (one.workspace_id, one.channel_id) == ("T_ONE", "C_BARE")
    assert (two.workspace_id, two.channel_id) == ("T_TWO", "C_TWO")
    assert channels.place("slack", "T_THREE") is None  # no channel of its own: never another's
    assert channels.place("discord", "G1") is None
    console = channels.place("console", "local")
    assert console is not None
    assert console.channel_id == "leads"


async def test_an_escalation_from_a_workspace_without_leads_is_not_announced_elsewhere(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(triage_json(needs_human=True))
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet, slack_leads_channel="T_ACME:C_LEADS") as app:
        ours = mention("Refund please", message_id="1700000400.000100")
        theirs = mention("Refund please", message_id="1700000400.000200").model_copy(
            update={
                "event_id": "Ev-other-workspace",
                "place": ours.place.model_copy(update={"workspace_id": "T_OTHER"}),
            }
        )
        for event in (ours, theirs):
            assert await app.intake.submit(event)
            assert await settle(app, event.event_id) == "done"
        async with db.sessions() as session:
            statuses = dict(
                (await session.execute(select(Ticket.workspace_id, Ticket.status))).all()
            )
        assert statuses == {"T_ACME": "escalated", "T_OTHER": "escalated"}
        assert await run_digest(app.jobs) == 1  # only T_ACME has a channel to post in
    notices = [r for r in outlet.sent if r.kind == "notify"]
    assert {(n.place.workspace_id, n.place.channel_id) for n in notices} == {("T_ACME", "C_LEADS")}
    assert all(n.card is None or n.card.ticket_id == 1 for n in notices)
