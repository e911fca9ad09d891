"""Pure translation both ways: payloads to events, replies to Block Kit."""

from __future__ import annotations

import pytest

from adapters.base import split_text
from adapters.slack.render import card_blocks, escape, text_messages
from adapters.slack.to_event import SlackIds, from_block_actions, from_command, from_envelope
from bot.events import (
    ActionInvoked,
    CommandInvoked,
    HomeOpened,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    TicketCard,
)
from tests.fakes.slack_interactive import button_action, select_action
from tests.fakes.slack_payloads import (
    app_home_opened,
    app_mention,
    bot_message,
    classic_bot_message,
    event_envelope,
    message,
    message_changed,
    message_deleted,
)

IDS = SlackIds(bot_user_id="U_BOT", allowed_bot_ids=("B_FRIEND",), lead_group_id="S_LEADS")
IDS.lead_group_members = frozenset({"U_LEAD"})


def _env(event: dict) -> dict:
    return event_envelope(event, event_id="Ev1")


def test_top_level_mention() -> None:
    event = from_envelope(_env(app_mention("<@U_BOT> help me", ts="1.1")), IDS)
    assert isinstance(event, MessagePosted)
    assert (event.text, event.mentions_bot, event.message_id) == ("help me", True, "1.1")
    assert event.place.thread_id is None
    assert event.place.workspace_id == "T_ACME"


def test_mention_in_a_thread_keeps_the_thread() -> None:
    event = from_envelope(_env(app_mention("<@U_BOT> more", ts="1.2", thread_ts="1.1")), IDS)
    assert isinstance(event, MessagePosted)
    assert event.place.thread_id == "1.1"


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            message("plain reply", user="U_ALICE", channel="C", ts="1.3", thread_ts="1.1"),
            MessagePosted,
        ),
        (message("<@U_BOT> dup of app_mention", user="U_ALICE", channel="C", ts="1.4"), None),
        (bot_message("from a bot", bot_id="B_OTHER", channel="C", ts="1.5"), None),
        (classic_bot_message("classic bot", bot_id="B_OTHER", channel="C", ts="1.6"), None),
        (bot_message("allowed bot", bot_id="B_FRIEND", channel="C", ts="1.7"), MessagePosted),
        (message_changed("C", "1.3", "edited", user="U_ALICE"), MessageEdited),
        (message_deleted("C", "1.3"), MessageDeleted),
        (app_home_opened("U_LEAD"), HomeOpened),
        ({"type": "reaction_added", "user": "U"}, None),
        ({"type": "app_mention"}, None),  # malformed: skipped, not raised
    ],
)
def test_event_table(event: dict, expected: type | None) -> None:
    result = from_envelope(_env(event), IDS)
    assert (type(result) if result is not None else None) is expected


def test_command_words_and_unknown_words() -> None:
    body = {
        "team_id": "T",
        "channel_id": "C",
        "user_id": "U_LEAD",
        "trigger_id": "tr",
        "text": "costs 30d",
        "response_url": "http://x",
    }
    command = from_command(body, IDS)
    assert isinstance(command, CommandInvoked)
    assert (command.name, command.args, command.event_id) == ("costs", ("30d",), "command:tr")
    assert command.actor.roles == ("S_LEADS",)
    assert from_command({**body, "text": "dance"}, IDS).name == "help"  # type: ignore[union-attr]
    assert from_command({"text": "help"}, IDS) is None


def test_buttons_and_selects() -> None:
    body = {
        "type": "block_actions",
        "user": {"id": "U_LEAD", "name": "lee"},
        "team": {"id": "T"},
        "container": {"channel_id": "C_LEADS", "message_ts": "9.9"},
        "trigger_id": "tr",
        "response_url": "http://x",
        "actions": [
            button_action("ticket:claim", "12"),
            select_action("ticket:reclassify-category", "12:bug"),
            button_action("something:else", "1"),
            button_action("ticket:claim", "not-a-number"),
        ],
    }
    claim, reclassify = from_block_actions(body, IDS)
    assert isinstance(claim, ActionInvoked)
    assert (claim.action, claim.ticket_id, claim.actor.roles) == ("claim", 12, ("S_LEADS",))
    assert (reclassify.action, reclassify.ticket_id, reclassify.value) == ("reclassify", 12, "bug")


def test_escape_neutralises_every_ping() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


def test_split_text_respects_the_limit_and_keeps_everything() -> None:
    text = ("word " * 2000).strip()
    pieces = split_text(text, 3000)
    assert all(len(p) <= 3000 for p in pieces)
    assert " ".join(pieces).split() == text.split()


def test_more_than_fifty_sections_become_several_messages() -> None:
    messages = text_messages("y" * (3000 * 60))
    assert [len(m) for m in messages] == [50, 10]


def test_card_blocks_validate_against_block_kit_limits() -> None:
    card = TicketCard(
        ticket_id=7,
        status="escalated",
        category="bug",
        urgency="high",
        summary="<!here> " + "s" * 5000,
        assignee_id="U_LEAD",
        actions=("claim", "resolve", "reclassify", "ask-reasoner"),
    )
    blocks = [b.to_dict() for b in card_blocks(card)]  # to_dict() validates each block
    assert blocks[0]["text"]["text"] == "Ticket #7 · escalated"
    assert "<!here>" not in str(blocks)
