"""Slash commands, lead buttons, App Home, rate limits and speed of acknowledgement."""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from bot.store.db import Database
from bot.store.models import AuditEntry, Ticket, TriageRun
from tests.adapters.slack.harness import SlackStack, mention_envelope, slack_stack
from tests.bot.harness import responder, triage_json
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_interactive import (
    block_actions_form,
    button_action,
    select_action,
    slash_command_form,
)
from tests.fakes.slack_payloads import app_home_opened, event_envelope

TS = "1700001000.000100"
ESCALATE = triage_json(
    category="billing", urgency="high", needs_human=True, summary="Charged twice"
)


async def _open_ticket(stack: SlackStack) -> int:
    await stack.post_json(mention_envelope("I was charged twice"))
    assert await stack.settle("Ev0001") == "done"
    async with stack.app.database.sessions() as session:
        return (await session.scalars(select(Ticket.id))).one()


async def _command(
    stack: SlackStack,
    fake: FakeSlack,
    text: str,
    *,
    user: str = "U_ALICE",
    thread_ts: str | None = None,
    trigger: str = "t1",
) -> list[dict]:
    url = fake.new_response_url()
    form = slash_command_form(
        text, user_id=user, response_url=url, trigger_id=trigger, thread_ts=thread_ts
    )
    started = time.monotonic()
    response = await stack.post_form(form)
    assert response.status_code == 200
    assert time.monotonic() - started < 0.3
    assert await stack.settle(f"command:{trigger}") == "done"
    return fake.response_posts[url.rsplit("/", 1)[-1]]


async def test_summary_in_a_thread_and_in_a_channel(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(answer="- Customer reports a double charge")
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        ticket_id = await _open_ticket(stack)
        in_thread = await _command(stack, fake_slack, "summary", thread_ts=TS, trigger="t1")
        in_channel = await _command(stack, fake_slack, "summary", trigger="t2")
    (thread_post,) = in_thread
    assert thread_post["response_type"] == "ephemeral"
    assert f"Ticket #{ticket_id}" in thread_post["text"]
    assert "double charge" in json.dumps(thread_post["blocks"])
    assert "Open tickets in this channel" in json.dumps(in_channel[0]["blocks"])


async def test_escalations_from_a_non_lead_are_refused(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(ESCALATE)
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        await _open_ticket(stack)
        refused = await _command(stack, fake_slack, "escalations", user="U_ALICE", trigger="t1")
        allowed = await _command(stack, fake_slack, "escalations", user="U_LEAD", trigger="t2")
    assert "Only support leads" in refused[0]["text"]
    assert "Open escalations (1)" in json.dumps(allowed[0]["blocks"])
    assert "due in" in json.dumps(allowed[0]["blocks"])


async def _click(
    stack: SlackStack, fake: FakeSlack, action: dict, *, user: str, trigger: str
) -> None:
    form = block_actions_form(
        [action],
        user_id=user,
        channel_id="C_LEADS",
        message_ts="1700000500.000200",
        response_url=fake.new_response_url(),
        trigger_id=trigger,
    )
    assert (await stack.post_form(form)).status_code == 200
    verb = action["action_id"].removeprefix("ticket:")
    verb = "reclassify" if verb.startswith("reclassify") else verb
    assert await stack.settle(f"action:{trigger}:{verb}") == "done"


async def test_claim_by_a_non_lead_is_refused_and_by_a_lead_updates_both_cards(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(ESCALATE)
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        ticket_id = await _open_ticket(stack)
        claim = button_action("ticket:claim", str(ticket_id))
        await _click(stack, fake_slack, claim, user="U_ALICE", trigger="c1")
        assert fake_slack.calls_to("chat.update") == []
        await _click(stack, fake_slack, claim, user="U_LEAD", trigger="c2")
        pick = select_action("ticket:reclassify-urgency", f"{ticket_id}:medium")
        await _click(stack, fake_slack, pick, user="U_LEAD", trigger="c3")
    async with db.sessions() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        audit = [(a.actor, a.action) for a in (await session.scalars(select(AuditEntry))).all()]
        human = (await session.scalars(select(TriageRun).where(TriageRun.source == "human"))).one()
    assert (ticket.status, ticket.assignee_id, ticket.urgency) == ("claimed", "U_LEAD", "medium")
    assert ("slack:U_ALICE", "action.refused") in audit
    assert ("slack:U_LEAD", "ticket.claimed") in audit
    assert human.result["urgency"] == "medium"
    updates = fake_slack.calls_to("chat.update")
    assert {u.params["channel"] for u in updates[:2]} == {"C_HELP", "C_LEADS"}
    assert "claimed" in updates[0].blocks[0]["text"]["text"]
    refusal = [c for c in fake_slack.calls if c.method == "response_url"]
    assert "Only support leads" in json.dumps(refusal[0].params)


async def test_escalation_card_goes_to_the_leads_channel_with_buttons(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(ESCALATE)
    async with slack_stack(
        db, fake_slack, fake_deepseek, slack_lead_usergroup_id="S_LEADS"
    ) as stack:
        await _open_ticket(stack)
    (leads,) = [
        c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == "C_LEADS"
    ]
    assert leads.params["text"].startswith("<!subteam^S_LEADS>")
    actions = next(b for b in leads.blocks if b["type"] == "actions")["elements"]
    ids = [e["action_id"] for e in actions]
    assert ids == [
        "ticket:claim",
        "ticket:resolve",
        "ticket:reclassify-category",
        "ticket:reclassify-urgency",
        "ticket:ask-reasoner",
    ]


async def test_app_home_shows_a_lead_the_queue(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(ESCALATE)
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        await _open_ticket(stack)
        body = event_envelope(app_home_opened("U_LEAD"), event_id="EvHome")
        assert (await stack.post_json(body)).status_code == 200
        assert await stack.settle("EvHome") == "done"
    (publish,) = fake_slack.calls_to("views.publish")
    assert publish.params["user_id"] == "U_LEAD"
    view = publish.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    text = json.dumps(view)
    assert view["type"] == "home"
    assert "Open escalations (1)" in text
    assert "Today's spend" in text


async def test_a_429_on_post_message_is_retried_after_retry_after_and_posted_once(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    fake_slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        await stack.post_json(mention_envelope("rate limits?"))
        assert await stack.settle("Ev0001") == "done"
    posts = fake_slack.calls_to("chat.postMessage")
    assert len(posts) == 2  # the 429, then its retry: the card with the answer
    assert posts[1].at - posts[0].at >= 1.0
    cards = [p for p in posts[1:] if p.blocks and p.blocks[0]["type"] == "header"]
    assert len(cards) == 1


async def test_every_event_is_acknowledged_fast_while_the_model_is_slow(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    fake_deepseek.responder_delay = 5.0
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        # The client's connection is set up first: the timings are the bot's acks, not
        # a TCP handshake on a busy machine.
        assert (await stack.http.get(stack.url.replace("/slack/events", "/healthz"))).is_success
        timings = []
        for i in range(5):
            body = mention_envelope(
                f"question {i}", ts=f"1700002000.00010{i}", event_id=f"EvSlow{i}"
            )
            started = time.monotonic()
            response = await stack.post_json(body)
            timings.append(time.monotonic() - started)
            assert response.status_code == 200
    assert max(timings) < 0.3, timings


async def test_model_text_cannot_ping_anyone(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(
        answer="<!channel> <!here> <!everyone> <!subteam^S123> <@U_CEO> read this " + "x" * 7000
    )
    # Answers are bounded (SUPPORTBOT_ANSWER_MAX_CHARS); raised so this one needs sections.
    async with slack_stack(db, fake_slack, fake_deepseek, answer_max_chars=20000) as stack:
        await stack.post_json(mention_envelope("ping test"))
        assert await stack.settle("Ev0001") == "done"
    answer = fake_slack.calls_to("chat.postMessage")[-1]
    posted = json.dumps(answer.params)
    for ping in ("<!channel>", "<!here>", "<!everyone>", "<!subteam^", "<@U_CEO>"):
        assert ping not in posted
    sections = [b for b in answer.blocks if b["type"] == "section" and "text" in b]
    assert len(sections) >= 3  # 7000+ characters split into sections of at most 3000
    assert all(len(s["text"]["text"]) <= 3000 for s in sections)
