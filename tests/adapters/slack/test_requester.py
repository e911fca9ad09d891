"""The asker's side on Slack: 👀 while the answer is written, Solved / I need a person
under the answer, and the rating once resolved; through bolt, against the fake Slack."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from sqlalchemy import select

from bot.store.db import Database
from bot.store.models import Ticket
from tests.adapters.slack.harness import SlackStack, mention_envelope, slack_stack
from tests.bot.harness import ANSWER, responder
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_interactive import block_actions_form, button_action

TS = "1700001000.000100"


async def _ticket(stack: SlackStack) -> Ticket:
    async with stack.app.database.sessions() as session:
        return (await session.scalars(select(Ticket))).one()


def _buttons(message: dict[str, Any]) -> dict[str, str]:
    """action_id -> value of every button in a posted message."""
    return {
        element["action_id"]: element["value"]
        for block in message.get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
        if element["type"] == "button"
    }


async def _press(
    stack: SlackStack, fake: FakeSlack, action_id: str, ticket_id: int, *, user: str, trigger: str
) -> str:
    """Click a button in the ticket's thread; the response_url's id (for private notes)."""
    url = fake.new_response_url()
    form = block_actions_form(
        [button_action(action_id, str(ticket_id))],
        user_id=user,
        channel_id="C_HELP",
        message_ts=TS,
        thread_ts=TS,
        response_url=url,
        trigger_id=trigger,
    )
    assert (await stack.post_form(form)).status_code == 200
    assert await stack.settle(f"action:{trigger}:{action_id.removeprefix('ticket:')}") == "done"
    return url.rsplit("/", 1)[-1]


def _thread_texts(fake: FakeSlack) -> list[str]:
    return [
        json.dumps(c.params.get("blocks"))
        for c in fake.calls_to("chat.postMessage")
        if c.params.get("thread_ts") == TS
    ]


async def test_the_mention_shows_eyes_within_a_second_while_the_model_is_still_writing(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    fake_deepseek.responder_delay = 2.0
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        sent = time.monotonic()
        assert (await stack.post_json(mention_envelope("How do I export?"))).status_code == 200
        while not fake_slack.calls_to("reactions.add") and time.monotonic() - sent < 1.5:  # noqa: ASYNC110 - polling what a fake server recorded
            await asyncio.sleep(0.02)
        (added,) = fake_slack.calls_to("reactions.add")
        assert added.at - sent < 1.0
        assert (added.params["channel"], added.params["timestamp"]) == ("C_HELP", TS)
        assert added.params["name"] == "eyes"
        assert fake_slack.calls_to("chat.postMessage") == []  # the model is still writing
        assert await stack.settle("Ev0001") == "done"
    (answer,) = fake_slack.calls_to("chat.postMessage")
    (removed,) = fake_slack.calls_to("reactions.remove")
    assert removed.at >= answer.at  # taken away once the answer is there
    assert removed.params["timestamp"] == TS
    assert not fake_slack.reactions.get(("C_HELP", TS))


async def test_a_reaction_slack_refuses_never_holds_up_the_answer(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    fake_slack.fail("reactions.add", "missing_scope", times=5)
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        await stack.post_json(mention_envelope("How do I export?"))
        assert await stack.settle("Ev0001") == "done"
    (answer,) = fake_slack.calls_to("chat.postMessage")
    assert ANSWER.replace(">", "&gt;") in json.dumps(answer.params["blocks"])
    assert len(fake_slack.calls_to("reactions.add")) == 1  # shown or let go, never retried


async def test_solved_by_the_asker_resolves_and_asks_for_a_rating_they_can_give(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        await stack.post_json(mention_envelope("How do I export?"))
        assert await stack.settle("Ev0001") == "done"
        ticket = await _ticket(stack)
        (answer,) = fake_slack.calls_to("chat.postMessage")
        buttons = _buttons(answer.params)
        assert buttons["ticket:solved"] == buttons["ticket:need-person"] == str(ticket.id)
        await _press(stack, fake_slack, "ticket:solved", ticket.id, user="U_ALICE", trigger="s1")
        ask = fake_slack.calls_to("chat.postMessage")[-1]
        assert set(_buttons(ask.params)) == {"ticket:rate-good", "ticket:rate-bad"}
        await _press(stack, fake_slack, "ticket:rate-good", ticket.id, user="U_ALICE", trigger="r1")
        ticket = await _ticket(stack)
    assert (ticket.status, ticket.satisfaction) == ("resolved", "good")
    assert any("Marked as solved by" in text for text in _thread_texts(fake_slack))
    (card_update,) = fake_slack.calls_to("chat.update")
    assert "ticket:solved" in json.dumps(card_update.params["blocks"])  # the answer's buttons stay


async def test_others_are_refused_privately_and_a_lead_may_ask_for_a_person(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        await stack.post_json(mention_envelope("How do I export?"))
        assert await stack.settle("Ev0001") == "done"
        ticket = await _ticket(stack)
        note = await _press(
            stack, fake_slack, "ticket:solved", ticket.id, user="U_MALLORY", trigger="x1"
        )
        assert (await _ticket(stack)).status == "open"
        await _press(
            stack, fake_slack, "ticket:need-person", ticket.id, user="U_LEAD", trigger="p1"
        )
        ticket = await _ticket(stack)
    (refusal,) = fake_slack.response_posts[note]
    assert refusal["response_type"] == "ephemeral"
    assert "Only the person who asked" in refusal["text"]
    assert ticket.status == "escalated"
    leads = [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == "C_LEADS"]
    assert len(leads) == 1
    assert "asked for a person" in json.dumps(leads[0].params["blocks"])
