"""Teams on tickets: their own leads channel, their SLA, and who the card suggests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from bot.config.playbook import Playbook, Playbooks, Team
from bot.events import Place, Platform, TicketStatus
from bot.llm.types import Usage
from bot.store.db import Database
from bot.store.models import Ticket
from bot.tickets.cards import card_for
from bot.tickets.leads_channels import LeadsChannels
from bot.tickets.sla import SlaPolicy
from bot.tickets.teams import escalate_to_team, least_loaded, next_in_turn
from bot.tickets.verdicts import store_verdict
from triage.classify import Classification
from triage.route import Route, RouteDecision
from triage.schema import TriageResult

NOW = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
BILLING = Team(
    name="billing",
    slack_channel="C_BILL",
    lead_user_ids=("U_ANN", "U_BOB"),
    sla_high_minutes=5,
    assign="round_robin",
)
BUGS = Team(name="bugs", channel="C_BUGS", lead_user_ids=("U_CY", "U_DEE"), assign="least_loaded")
PLAYBOOK = Playbook(teams=(BILLING, BUGS))


# --- SLA ---------------------------------------------------------------------------------


def test_a_team_sla_overrides_only_the_times_it_sets() -> None:
    workspace = SlaPolicy(high_minutes=15, medium_minutes=120, low_business_days=2)
    team = workspace.for_team(BILLING)
    assert (team.high_minutes, team.medium_minutes, team.low_business_days) == (5, 120, 2)
    assert team.due("high", NOW) == NOW + timedelta(minutes=5)
    assert workspace.for_team(None) is workspace


# --- Assignment, pure ----------------------------------------------------------------------


def test_round_robin_takes_the_lead_after_the_last_suggested() -> None:
    leads = ("U1", "U2", "U3")
    assert next_in_turn(leads, None) == "U1"
    assert next_in_turn(leads, "U1") == "U2"
    assert next_in_turn(leads, "U3") == "U1"
    assert next_in_turn(leads, "U_GONE") == "U1"  # a lead since removed: start over


def test_least_loaded_takes_the_fewest_and_the_first_listed_on_a_tie() -> None:
    assert least_loaded(("U1", "U2", "U3"), {"U1": 2, "U2": 1, "U3": 1}) == "U2"
    assert least_loaded(("U1", "U2"), {}) == "U1"


# --- Leads channels ------------------------------------------------------------------------


def where(place: Place | None) -> tuple[str, str] | None:
    """A place as (workspace, channel)."""
    return None if place is None else (place.workspace_id, place.channel_id)


def test_each_team_has_its_own_channel_in_the_home_workspace() -> None:
    channels = LeadsChannels({Platform.SLACK: {"": "C_LEADS"}}, Playbooks(default=PLAYBOOK))
    channels.bind(Platform.SLACK, "T_ACME")
    assert where(channels.place("slack", "T_ACME", "billing")) == ("T_ACME", "C_BILL")
    # `channel` serves every platform the team names no channel of its own for.
    assert where(channels.place("slack", "T_ACME", "bugs")) == ("T_ACME", "C_BUGS")
    assert where(channels.place("slack", "T_ACME")) == ("T_ACME", "C_LEADS")
    assert where(channels.place("slack", "T_ACME", "removed_team")) == ("T_ACME", "C_LEADS")


def test_a_shared_teams_channel_never_serves_another_workspace() -> None:
    """The default playbook's team channel lives in the home workspace; T_TWO's billing
    tickets go to T_TWO's own leads channel, T_THREE's (no channel at all) nowhere."""
    playbooks = Playbooks(default=PLAYBOOK)
    channels = LeadsChannels({Platform.SLACK: {"": "C_LEADS", "T_TWO": "C_TWO"}}, playbooks)
    channels.bind(Platform.SLACK, "T_ACME")
    assert where(channels.place("slack", "T_TWO", "billing")) == ("T_TWO", "C_TWO")
    assert channels.place("slack", "T_THREE", "billing") is None


def test_a_workspaces_own_team_has_its_channel_there() -> None:
    own = Playbook(teams=(Team(name="billing", slack_channel="C_T2_BILL"),))
    playbooks = Playbooks(default=PLAYBOOK, workspaces={"T_TWO": own})
    channels = LeadsChannels({Platform.SLACK: {"T_ACME": "C_LEADS"}}, playbooks)
    assert where(channels.place("slack", "T_TWO", "billing")) == ("T_TWO", "C_T2_BILL")
    # With no bare channel, the one workspace given a leads channel is the home one.
    assert where(channels.place("slack", "T_ACME", "billing")) == ("T_ACME", "C_BILL")
    console = LeadsChannels({Platform.CONSOLE: {"": "leads"}}, playbooks)
    assert where(console.place("console", "local", "bugs")) == ("local", "C_BUGS")


# --- In the database -----------------------------------------------------------------------


def _classified(urgency: str = "high") -> Classification:
    result = TriageResult(
        category="billing",
        urgency=urgency,
        summary="Charged twice.",
        needs_human=True,
        confidence=0.9,
    )
    return Classification(
        result=result,
        source="llm",
        model="deepseek-chat",
        prompt_version="triage.v2",
        llm_calls=1,
        corrected=False,
        usage=Usage(),
        cost_usd=Decimal(0),
        fallback_reason=None,
        latency_ms=5,
    )


async def _new_ticket(db: Database, n: int, workspace: str = "T1") -> int:
    async with db.sessions.begin() as session:
        ticket = Ticket(
            platform="slack",
            workspace_id=workspace,
            channel_id="C1",
            thread_id=f"{n}.0",
            requester_id="U_REQ",
        )
        session.add(ticket)
        await session.flush()
        return ticket.id


async def _escalated(db: Database, team: str, n: int, workspace: str = "T1") -> Ticket:
    ticket_id = await _new_ticket(db, n, workspace)
    decision = RouteDecision(Route.HUMAN, "rule 1: category billing", team=team)
    return await store_verdict(
        db.sessions, ticket_id, _classified(), decision, SlaPolicy(), NOW, playbook=PLAYBOOK
    )


async def test_a_verdict_stores_its_team_due_by_the_teams_sla(db: Database) -> None:
    ticket = await _escalated(db, "billing", 1)
    async with db.sessions() as session:
        row = await session.get_one(Ticket, ticket.id)
    assert (row.status, row.team) == (TicketStatus.ESCALATED, "billing")
    assert row.sla_due_at == NOW + timedelta(minutes=5)  # the team's 5, not the desk's 15
    card = card_for(row, PLAYBOOK)
    assert (card.team, card.suggested_assignee_id) == ("billing", "U_ANN")


async def test_round_robin_alternates_between_the_teams_leads_per_workspace(db: Database) -> None:
    picks = [(await _escalated(db, "billing", n)).suggested_assignee_id for n in range(1, 5)]
    assert picks == ["U_ANN", "U_BOB", "U_ANN", "U_BOB"]
    other = await _escalated(db, "billing", 9, workspace="T2")
    assert other.suggested_assignee_id == "U_ANN"  # T2's turn is its own


async def test_least_loaded_suggests_the_lead_with_fewest_open_escalations(db: Database) -> None:
    first = await _escalated(db, "bugs", 1)
    assert first.suggested_assignee_id == "U_CY"
    second = await _escalated(db, "bugs", 2)
    assert second.suggested_assignee_id == "U_DEE"
    async with db.sessions.begin() as session:  # U_CY's ticket is resolved: U_CY is free
        row = await session.get_one(Ticket, first.id)
        row.status = TicketStatus.RESOLVED
    third = await _escalated(db, "bugs", 3)
    assert third.suggested_assignee_id == "U_CY"
    async with db.sessions.begin() as session:  # U_DEE claims a ticket suggested to U_CY
        row = await session.get_one(Ticket, third.id)
        row.status, row.assignee_id = TicketStatus.CLAIMED, "U_DEE"
    fourth = await _escalated(db, "bugs", 4)
    assert fourth.suggested_assignee_id == "U_CY"  # U_DEE holds two, U_CY none
    third_row = await _get(db, third.id)
    card = card_for(third_row, PLAYBOOK)
    assert (card.assignee_id, card.suggested_assignee_id) == ("U_DEE", None)  # claimed
    assert third_row.suggested_assignee_id == "U_CY"  # kept: the next round follows it


async def test_no_team_no_suggestion_and_the_desks_sla(db: Database) -> None:
    ticket_id = await _new_ticket(db, 1)
    async with db.sessions.begin() as session:
        row = await session.get_one(Ticket, ticket_id)
        await escalate_to_team(session, row, None, sla=SlaPolicy(), now=NOW, reason="asked")
    row = await _get(db, ticket_id)
    assert (row.team, row.suggested_assignee_id) == (None, None)
    assert row.sla_due_at == NOW + timedelta(minutes=120)  # no urgency: medium


async def _get(db: Database, ticket_id: int) -> Ticket:
    async with db.sessions() as session:
        return (await session.scalars(select(Ticket).where(Ticket.id == ticket_id))).one()
