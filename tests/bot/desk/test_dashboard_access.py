"""Who may open the dashboard, and which workspaces it shows them: the pure rules."""

from __future__ import annotations

from bot.config.playbook import Playbook, Playbooks, Team
from bot.desk.dashboard_access import (
    CONSOLE_WORKSPACE,
    leads_workspace,
    workspaces_led,
    workspaces_led_by_id,
)
from bot.desk.leads import Leads
from bot.events import Actor, Platform

LEADS = Leads.of(["U_LEAD"], ["R_DESK"])
PLAYBOOKS = Playbooks(
    default=Playbook(teams=(Team(name="billing", lead_user_ids=("U_ANN",)),)),
    workspaces={
        "T_TWO": Playbook(
            teams=(
                Team(
                    name="bugs",
                    lead_user_ids=("U_TWO",),
                    lead_role_ids=("R_BUGS",),
                    slack_usergroup_id="S_BUGS",
                ),
            )
        )
    },
)


def _slack(user: str, *roles: str) -> Actor:
    return Actor(platform=Platform.SLACK, user_id=user, roles=roles)


def test_desk_leads_lead_everywhere_and_team_leads_where_their_team_is() -> None:
    two, default = PLAYBOOKS.for_workspace("T_TWO"), PLAYBOOKS.default
    assert leads_workspace(LEADS, two, _slack("U_LEAD"))
    assert leads_workspace(LEADS, two, _slack("U_X", "R_DESK"))
    assert leads_workspace(LEADS, two, _slack("U_TWO"))
    assert leads_workspace(LEADS, two, _slack("U_X", "R_BUGS"))
    assert leads_workspace(LEADS, two, _slack("U_X", "S_BUGS"))  # the team's user group
    assert not leads_workspace(LEADS, default, _slack("U_TWO"))
    assert not leads_workspace(LEADS, two, _slack("U_ANN"))  # T_TWO's teams replace billing
    assert not leads_workspace(LEADS, default, _slack("U_NOBODY"))
    candidates = ["T_ACME", "T_TWO", "T_ACME"]
    assert workspaces_led(LEADS, PLAYBOOKS, _slack("U_LEAD"), candidates) == ("T_ACME", "T_TWO")
    assert workspaces_led(LEADS, PLAYBOOKS, _slack("U_ANN"), candidates) == ("T_ACME",)


def test_by_id_a_workspace_counts_when_tickets_or_its_playbook_name_it() -> None:
    def led(user: str, workspace: str | None = None, seen: tuple[str, ...] = ()) -> tuple:
        return workspaces_led_by_id(
            LEADS, PLAYBOOKS, platform=Platform.SLACK, user_id=user, workspace=workspace, seen=seen
        )

    assert led("U_LEAD") == ()  # no tickets yet: nothing found to lead
    assert led("U_LEAD", seen=("T_ACME",)) == ("T_ACME",)
    assert led("U_LEAD", workspace="T_NEW") == ("T_NEW",)
    assert led("U_TWO") == ("T_TWO",)  # named by T_TWO's playbook, no tickets needed
    assert led("U_TWO", workspace="T_ACME") == ()
    assert led("U_NOBODY", seen=("T_ACME", "T_TWO")) == ()


def test_on_the_terminal_only_its_user_leads_and_only_its_workspace() -> None:
    def led(user: str, workspace: str | None = None) -> tuple:
        return workspaces_led_by_id(
            LEADS, PLAYBOOKS, platform=Platform.CONSOLE, user_id=user, workspace=workspace, seen=()
        )

    assert led("you") == (CONSOLE_WORKSPACE,)
    assert led("you", CONSOLE_WORKSPACE) == (CONSOLE_WORKSPACE,)
    assert led("you", "T_ACME") == ()
    assert led("U_LEAD") == ()
