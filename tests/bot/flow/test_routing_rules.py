"""Routing rules and teams through the whole app: per workspace, a rule that only sets a
team, a requester's hand-over and the SLA reminders reaching the team's channel."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.app import SupportApp
from bot.config.playbook import Playbook, Playbooks, Team
from bot.config.routing import RoutingRule
from bot.events import (
    ActionInvoked,
    Actor,
    CommandInvoked,
    CommandName,
    Event,
    MessagePosted,
    Notify,
    Place,
    Platform,
    TicketAction,
)
from bot.jobs.sla_reminders import run_sla_reminders
from bot.store.db import Database
from bot.store.models import Ticket
from tests.bot.harness import (
    ANSWER,
    Clock,
    RecordingOutlet,
    mention,
    running_app,
    settle,
    triage_json,
)
from tests.fakes.deepseek import FakeDeepSeek
from tests.settle import wait_delivered

MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BILLING = Team(
    name="billing",
    channel="C_BILL",
    lead_user_ids=("U_ANN", "U_BOB"),
    sla_high_minutes=5,
    assign="least_loaded",
)
DESK = Playbook(
    teams=(BILLING,),
    # A team only: the route is decided as usual, the team's leads get it if escalated.
    routes=(RoutingRule(name="money", category=("billing",), team="billing"),),
)
VIP = Playbook(
    teams=(Team(name="vip", slack_channel="C_VIP", lead_user_ids=("U_VIP",)),),
    routes=(RoutingRule(name="everything to vip", route="human", team="vip"),),
)
PLAYBOOKS = Playbooks(default=DESK, workspaces={"T_OTHER": VIP})


def verdicts(body: dict[str, Any]) -> str:
    if body.get("response_format", {}).get("type") != "json_object":
        return ANSWER
    if "invoice" in body["messages"][-1]["content"]:
        return triage_json(category="billing", urgency="high", summary="Wrong invoice")
    return triage_json(category="other", urgency="low", summary="A question")


async def _run(app: SupportApp, event: Event) -> None:
    assert await app.intake.submit(event)
    assert await settle(app, event.event_id) == "done"


def _elsewhere(event: MessagePosted, workspace: str) -> MessagePosted:
    place = event.place.model_copy(update={"workspace_id": workspace})
    return event.model_copy(update={"place": place, "event_id": f"{event.event_id}-{workspace}"})


def _press(actor: Actor, ticket_id: int, thread_id: str) -> ActionInvoked:
    """I need a person, pressed under the answer in the ticket's thread."""
    place = Place(
        platform=Platform.SLACK, workspace_id="T_ACME", channel_id="C_HELP", thread_id=thread_id
    )
    return ActionInvoked(
        event_id=f"press-{actor.user_id}", place=place, actor=actor,
        action=TicketAction.NEED_PERSON, ticket_id=ticket_id,
    )  # fmt: skip


async def _tickets(app: SupportApp) -> list[Ticket]:
    async with app.database.sessions() as session:
        return list((await session.scalars(select(Ticket).order_by(Ticket.id))).all())


def _notices(outlet: RecordingOutlet) -> list[Notify]:
    return [r for r in outlet.sent if isinstance(r, Notify)]


async def test_a_workspaces_own_rule_and_team_apply_to_it_alone(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = verdicts
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet, playbooks=PLAYBOOKS) as app:
        ours = mention("How do I change my avatar?", message_id="1700000400.000100")
        await _run(app, ours)
        await _run(app, _elsewhere(ours, "T_OTHER"))
        acme, other = await _tickets(app)
    assert (acme.workspace_id, acme.route, acme.team) == ("T_ACME", "answer", None)
    assert (other.workspace_id, other.route, other.team) == ("T_OTHER", "human", "vip")
    assert other.route_reason == 'rule "everything to vip": every ticket'
    (notice,) = _notices(outlet)
    assert (notice.place.workspace_id, notice.place.channel_id) == ("T_OTHER", "C_VIP")
    assert notice.card is not None
    assert notice.card.team == "vip"


async def test_a_requester_hand_over_reaches_the_team_with_its_sla_and_a_suggestion(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = verdicts
    outlet, clock = RecordingOutlet(), Clock(MONDAY_9AM)
    async with running_app(db, fake_deepseek, outlet, clock=clock, playbooks=PLAYBOOKS) as app:
        root = "1700000500.000100"
        await _run(
            app, mention("My invoice shows the wrong VAT", message_id=root, posted_at=clock())
        )
        (ticket,) = await _tickets(app)
        assert (ticket.route, ticket.team, ticket.status) == ("answer", "billing", "open")
        alice = Actor(platform=Platform.SLACK, user_id="U_ALICE")
        await _run(app, _press(alice, ticket.id, root))
        (ticket,) = await _tickets(app)
        ann = Actor(platform=Platform.SLACK, user_id="U_ANN")
        place = _press(ann, ticket.id, root).place
        ask = CommandInvoked(
            event_id="cmd-1",
            place=place,
            actor=ann,
            name=CommandName.TICKET,
            args=(str(ticket.id),),
        )
        await _run(app, ask)
        clock.advance(minutes=6)  # past billing's 5 minutes, within the desk's 15
        assert await run_sla_reminders(app.jobs) == 1
        await wait_delivered(app)
    assert ticket.status == "escalated"
    assert (ticket.sla_due_at - MONDAY_9AM).total_seconds() == 5 * 60
    assert ticket.suggested_assignee_id == "U_ANN"
    asked, reminder = _notices(outlet)
    assert [n.place.channel_id for n in (asked, reminder)] == ["C_BILL", "C_BILL"]
    assert asked.card is not None
    assert (asked.card.team, asked.card.suggested_assignee_id) == ("billing", "U_ANN")
    assert "SLA breached" in reminder.text
    # A team lead may read the team's ticket, which is no other requester's to see.
    (answer,) = [r for r in outlet.sent if r.kind == "ephemeral"]
    assert "Team: billing" in answer.text
    assert "Assignee: nobody (suggested: U_ANN)" in answer.text
