"""Team leads work their own team's tickets, in their own workspace only; labels are the
workspace's taxonomy's, and a label it does not have is refused with the ones it has."""

from __future__ import annotations

from itertools import count

import pytest
from sqlalchemy import select

from bot.app import SupportApp
from bot.config.playbook import Playbook, Playbooks, Team
from bot.config.taxonomy import CategoryDef, Taxonomy
from bot.desk.actions import UnknownLabel, parse_labels
from bot.events import (
    ActionInvoked,
    Actor,
    CommandInvoked,
    CommandName,
    Ephemeral,
    Event,
    Place,
    Platform,
    TicketAction,
)
from bot.store.db import Database
from bot.store.models import Ticket
from tests.bot.harness import RecordingOutlet, running_app, settle

GAME = Taxonomy(
    categories=(
        CategoryDef(name="crash", description="the game crashes", formerly=("bug",)),
        CategoryDef(name="low", description="a category named like an urgency"),
        CategoryDef(name="other", description="anything else"),
    )
)
# Both workspaces have a "billing" team, each with its own lead.
PLAYBOOKS = Playbooks(
    default=Playbook(teams=(Team(name="billing", lead_user_ids=("U_ANN",)),)),
    workspaces={
        "T_TWO": Playbook(
            taxonomy=GAME,
            teams=(Team(name="billing", lead_user_ids=("U_TWO",), lead_role_ids=("R_MONEY",)),),
        )
    },
)
_ids = count()


def test_labels_are_read_in_the_workspaces_taxonomy() -> None:
    assert parse_labels("crash:high", GAME) == ("crash", "high")
    assert parse_labels("BUG", GAME) == ("crash", None)  # an old name: today's
    assert parse_labels("low", GAME) == ("low", None)  # a bare word: the category first
    assert parse_labels("urgency=low", GAME) == (None, "low")
    assert parse_labels("category=other, urgency = medium", GAME) == ("other", "medium")
    assert parse_labels("", GAME) is None
    for wrong in ("billing", "category=high", "urgency=crash"):
        with pytest.raises(UnknownLabel):
            parse_labels(wrong, GAME)


async def _ticket(app: SupportApp, workspace: str, team: str | None) -> int:
    async with app.database.sessions.begin() as session:
        ticket = Ticket(
            platform="slack",
            workspace_id=workspace,
            channel_id="C_HELP",
            thread_id=f"1700000600.{next(_ids):06d}",
            requester_id="U_REQ",
            status="escalated",
            category="bug",
            urgency="high",
            summary="It crashes",
            team=team,
        )
        session.add(ticket)
        await session.flush()
        return ticket.id


def _press(
    user: str,
    ticket_id: int,
    workspace: str,
    *,
    value: str | None = None,
    roles: tuple[str, ...] = (),
) -> ActionInvoked:
    return ActionInvoked(
        event_id=f"press-{next(_ids)}",
        place=Place(platform=Platform.SLACK, workspace_id=workspace, channel_id="C_LEADS"),
        actor=Actor(platform=Platform.SLACK, user_id=user, roles=roles),
        action=TicketAction.RECLASSIFY if value else TicketAction.CLAIM,
        ticket_id=ticket_id,
        value=value,
    )


async def _run(app: SupportApp, event: Event) -> None:
    assert await app.intake.submit(event)
    assert await settle(app, event.event_id) == "done"


async def _assignees(app: SupportApp) -> dict[int, str | None]:
    async with app.database.sessions() as session:
        return dict((await session.execute(select(Ticket.id, Ticket.assignee_id))).all())


async def test_a_team_lead_claims_only_their_teams_tickets_in_their_workspace(
    db: Database,
) -> None:
    outlet = RecordingOutlet()
    async with running_app(db, None, outlet, playbooks=PLAYBOOKS) as app:
        ours = await _ticket(app, "T_ACME", "billing")
        unteamed = await _ticket(app, "T_ACME", None)
        theirs = await _ticket(app, "T_TWO", "billing")
        by_role = await _ticket(app, "T_TWO", "billing")
        await _run(app, _press("U_ANN", unteamed, "T_ACME"))  # no team: the desk's leads
        await _run(app, _press("U_ANN", theirs, "T_TWO"))  # T_TWO's billing is not hers
        await _run(app, _press("U_ANN", theirs, "T_ACME"))  # nor from her own workspace
        await _run(app, _press("U_ANN", ours, "T_ACME"))
        await _run(app, _press("U_TWO", theirs, "T_TWO"))
        await _run(app, _press("U_ROLE", by_role, "T_TWO", roles=("R_MONEY",)))
        assignees = await _assignees(app)
    assert assignees == {ours: "U_ANN", unteamed: None, theirs: "U_TWO", by_role: "U_ROLE"}
    refusals = [r.text for r in outlet.sent if isinstance(r, Ephemeral)]
    assert refusals == ["Only support leads can use these buttons."] * 3


async def test_reclassifying_outside_the_taxonomy_is_refused_with_the_choices(
    db: Database,
) -> None:
    outlet = RecordingOutlet()
    async with running_app(db, None, outlet, playbooks=PLAYBOOKS) as app:
        ticket_id = await _ticket(app, "T_TWO", "billing")
        await _run(app, _press("U_TWO", ticket_id, "T_TWO", value="category=billing"))
        await _run(app, _press("U_TWO", ticket_id, "T_TWO", value="category=crash:urgency=low"))
        help_ = CommandInvoked(
            event_id="help-1",
            place=Place(platform=Platform.SLACK, workspace_id="T_TWO", channel_id="C_HELP"),
            actor=Actor(platform=Platform.SLACK, user_id="U_REQ"),
            name=CommandName.HELP,
        )
        await _run(app, help_)
        async with app.database.sessions() as session:
            ticket = await session.get_one(Ticket, ticket_id)
    refusal, help_text = [r.text for r in outlet.sent if isinstance(r, Ephemeral)]
    assert refusal == (
        "“billing” is not a category or an urgency here. "
        "Pick a category (crash, low, other) and/or an urgency (high, medium, low)."
    )
    assert (ticket.category, ticket.urgency, ticket.team) == ("crash", "low", "billing")
    assert help_text.endswith("Tickets here are sorted into: crash, low, other.")
