"""Recorded Slack payloads (tests/fixtures/slack) -> `bot.events`: pure translation.

Each fixture is an Events API envelope, a slash command's fields or a `block_actions`
payload as Slack delivers it. The workspace of every event is the team Bolt authorizes
(`slack_bolt.request.internals.extract_team_id`), so the adapter and Bolt never disagree.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.request.internals import extract_team_id

from adapters.slack.to_event import SlackIds, from_block_actions, from_command, from_envelope
from bot.events import ActionInvoked, CommandInvoked, MessageDeleted, MessagePosted

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "slack"

ENVELOPES = [
    "app_mention_from_bot",
    "app_mention_classic_bot",
    "app_mention_document_mention",
    "app_mention_other_team",
    "message_changed_tombstone",
    "connect_app_mention_from_host",
    "connect_message_reply_from_guest",
    "connect_app_mention_from_guest",
]
COMMANDS = ["slash_command_from_guest", "slash_command_other_team"]
ACTIONS = [
    "block_actions_claim_from_guest",
    "block_actions_claim_org_install",
    "block_actions_claim_other_team",
]


def load(name: str) -> dict[str, Any]:
    """A recorded payload, fresh for each call (tests may change it)."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def ids(*allowed_bots: str, team: str | None = "T_ACME") -> SlackIds:
    """The identity auth.test gives against the fake Slack: U_BOT in T_ACME."""
    return SlackIds(bot_user_id="U_BOT", allowed_bot_ids=allowed_bots, team_id=team)


# --- other bots' mentions (items 3 and 19) ---------------------------------------------


@pytest.mark.parametrize("name", ["app_mention_from_bot", "app_mention_classic_bot"])
def test_a_mention_from_another_bot_is_skipped(name: str) -> None:
    assert from_envelope(load(name), ids()) is None


def test_a_bot_is_known_by_its_bot_profile_alone() -> None:
    body = load("app_mention_from_bot")
    del body["event"]["bot_id"]
    assert from_envelope(body, ids()) is None


def test_a_mention_from_an_allowed_bot_is_posted_by_a_bot() -> None:
    event = from_envelope(load("app_mention_from_bot"), ids("B_DEPLOY"))
    assert isinstance(event, MessagePosted)
    assert (event.author.user_id, event.author.is_bot) == ("U_DEPLOY", True)
    assert event.mentions_bot is True
    assert event.text == "deploy 2024.11.3 finished, can you post the release notes?"


def test_a_mention_from_an_allowed_classic_bot_is_posted_by_that_bot() -> None:
    event = from_envelope(load("app_mention_classic_bot"), ids("B_HOOK"))
    assert isinstance(event, MessagePosted)
    assert (event.author.user_id, event.author.is_bot) == ("B_HOOK", True)
    assert event.text == "nightly export job failed on shard 3"


def test_a_person_mentioning_the_bot_is_not_a_bot() -> None:
    event = from_envelope(load("connect_app_mention_from_host"), ids())
    assert isinstance(event, MessagePosted)
    assert event.author.is_bot is False


def test_a_canvas_mention_is_skipped() -> None:
    assert from_envelope(load("app_mention_document_mention"), ids()) is None


# --- deleting a message that has replies (item 18) ------------------------------------


def test_deleting_a_message_with_replies_is_a_delete_of_that_message() -> None:
    event = from_envelope(load("message_changed_tombstone"), ids())
    assert isinstance(event, MessageDeleted)
    assert event.message_id == "1700001000.000100"
    assert (event.place.workspace_id, event.place.channel_id) == ("T_ACME", "C_HELP")


# --- Slack Connect: the installing team is the workspace (item 21) ---------------------


@pytest.mark.parametrize(
    "name",
    [
        "connect_app_mention_from_host",
        "connect_message_reply_from_guest",
        "connect_app_mention_from_guest",
    ],
)
def test_slack_connect_events_belong_to_the_installing_team(name: str) -> None:
    event = from_envelope(load(name), ids())
    assert isinstance(event, MessagePosted)
    assert event.place.workspace_id == "T_ACME"
    assert event.place.channel_id == "C_SHARED"


def test_a_guest_reply_lands_in_the_hosts_ticket_thread() -> None:
    opened = from_envelope(load("connect_app_mention_from_host"), ids())
    reply = from_envelope(load("connect_message_reply_from_guest"), ids())
    assert isinstance(opened, MessagePosted)
    assert isinstance(reply, MessagePosted)
    assert reply.place.thread_id == opened.message_id
    assert reply.place.workspace_id == opened.place.workspace_id
    assert reply.author.user_id == "U_GLOBEX_BOB"


def _workspace(name: str) -> str | None:
    body, every = load(name), ids(team=None)  # no served-team filter here
    if name in COMMANDS:
        command = from_command(body, every)
        return command.place.workspace_id if command else None
    if name in ACTIONS:
        actions = from_block_actions(body, every)
        return actions[0].place.workspace_id if actions else None
    event = from_envelope(body, ids("B_DEPLOY", "B_HOOK", team=None))
    if event is None:  # the canvas mention is skipped whatever its team
        return extract_team_id(body)
    return event.place.workspace_id  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ENVELOPES + COMMANDS + ACTIONS)
def test_the_workspace_is_the_team_bolt_authorizes(name: str) -> None:
    assert _workspace(name) == extract_team_id(load(name))


def test_commands_and_clicks_use_the_authorized_team_not_the_users() -> None:
    command = from_command(load("slash_command_from_guest"), ids())
    (claim,) = from_block_actions(load("block_actions_claim_from_guest"), ids())
    (org_claim,) = from_block_actions(load("block_actions_claim_org_install"), ids())
    assert isinstance(command, CommandInvoked)
    assert isinstance(claim, ActionInvoked)
    assert command.place.workspace_id == "T_ACME"
    assert claim.place.workspace_id == "T_ACME"  # team.id, not user.team_id (T_GLOBEX)
    assert org_claim.place.workspace_id == "T_ACME"  # team is null: user.team_id


# --- teams the bot does not serve (item 2) -----------------------------------------


def test_an_envelope_from_a_team_not_served_is_skipped() -> None:
    body = load("app_mention_other_team")
    assert from_envelope(body, ids()) is None
    assert isinstance(from_envelope(body, ids(team="T_INITECH")), MessagePosted)


def test_an_envelope_only_claiming_our_team_at_the_top_is_skipped() -> None:
    body = load("app_mention_other_team")
    body["team_id"] = "T_ACME"  # authorizations[0] still says T_INITECH
    assert from_envelope(body, ids()) is None


def test_commands_and_clicks_from_a_team_not_served_are_skipped() -> None:
    assert from_command(load("slash_command_other_team"), ids()) is None
    assert from_block_actions(load("block_actions_claim_other_team"), ids()) == []


def test_fixtures_are_left_as_they_were() -> None:
    for name in ENVELOPES + COMMANDS + ACTIONS:
        body = load(name)
        before = copy.deepcopy(body)
        from_envelope(body, ids())
        from_command(body, ids())
        from_block_actions(body, ids())
        assert body == before, name
