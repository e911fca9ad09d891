"""Slack events through the real bolt app over real signed HTTP."""

from __future__ import annotations

import asyncio
import json
import math
import time

from sqlalchemy import func, select

from adapters.slack.render import escape
from bot.store.db import Database
from bot.store.models import InboxItem, Message, Ticket
from tests.adapters.slack.harness import SIGNING_SECRET, mention_envelope, slack_stack
from tests.bot.harness import ANSWER, responder, triage_requests
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_interactive import json_headers
from tests.fakes.slack_payloads import (
    bot_message,
    event_envelope,
    message,
    message_changed,
    message_deleted,
)

TS = "1700001000.000100"


async def _tickets(db: Database) -> list[Ticket]:
    async with db.sessions() as session:
        return list((await session.scalars(select(Ticket))).all())


async def _inbox_rows(db: Database) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(InboxItem)) or 0


async def test_a_mention_opens_a_ticket_and_answers_in_one_message_in_its_thread(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        response = await stack.post_json(mention_envelope("how do I export to CSV?"))
        assert response.status_code == 200
        assert await stack.settle("Ev0001") == "done"
    (ticket,) = await _tickets(db)
    assert ticket.thread_id == TS
    assert ticket.workspace_id == "T_ACME"
    assert len(triage_requests(fake_deepseek)) == 1
    # One message in the thread: the ticket's card with the answer under it.
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert (post.params["channel"], post.params["thread_ts"]) == ("C_HELP", TS)
    assert post.blocks[0]["text"]["text"] == f"Ticket #{ticket.id} · open"
    texts = [b["text"]["text"] for b in post.blocks if b["type"] == "section" and "text" in b]
    assert texts[-1] == escape(ANSWER)  # "Settings &gt; Export", after the card
    # The ticket text the model saw has the bot's mention removed.
    sent = triage_requests(fake_deepseek)[0]["messages"][-1]["content"]
    assert "U_BOT" not in sent


async def test_the_same_event_id_four_times_is_one_ticket_one_call_one_card(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    body = mention_envelope("my invoice is wrong", event_id="EvDup")
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        first = await stack.post_json(body)
        retries = await asyncio.gather(
            stack.post_json(
                body, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
            ),
            stack.post_json(
                body, **{"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"}
            ),
        )
        last = await stack.post_json(
            body, **{"X-Slack-Retry-Num": "3", "X-Slack-Retry-Reason": "http_error"}
        )
        assert await stack.settle("EvDup") == "done"
        await asyncio.sleep(0.3)
    assert [r.status_code for r in (first, *retries, last)] == [200, 200, 200, 200]
    assert len(await _tickets(db)) == 1
    assert await _inbox_rows(db) == 1
    assert len(triage_requests(fake_deepseek)) == 1
    cards = [
        p
        for p in fake_slack.calls_to("chat.postMessage")
        if p.blocks and p.blocks[0].get("type") == "header"
    ]
    assert len(cards) == 1


async def test_bad_signatures_are_refused_and_nothing_is_stored(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    raw = json.dumps(mention_envelope("let me in"))

    def skewed(seconds: int) -> dict[str, str]:
        # Signed just before sending; rounded away from now so the skew is at least 301 s.
        now = time.time()
        stamp = math.ceil(now) + seconds if seconds > 0 else math.floor(now) + seconds
        return json_headers(SIGNING_SECRET, raw, timestamp=stamp)

    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        results = [
            await stack.http.post(stack.url, content=raw, headers=skewed(-301)),
            await stack.http.post(stack.url, content=raw, headers=skewed(301)),
            await stack.http.post(
                stack.url,
                content=raw.replace("let me in", "let me IN"),
                headers=json_headers(SIGNING_SECRET, raw),
            ),
            await stack.http.post(
                stack.url, content=raw, headers={"Content-Type": "application/json"}
            ),
            await stack.http.post(stack.url, content=raw, headers=json_headers("not-it", raw)),
        ]
    assert [r.status_code for r in results] == [401] * 5
    assert await _inbox_rows(db) == 0
    assert fake_deepseek.requests == []


async def test_malformed_and_odd_requests_get_a_4xx_or_an_ack_never_a_500(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        bad_json = "{not json"
        no_payload = "token=x&team_id=T_ACME"
        unknown = json.dumps(
            event_envelope(
                {"type": "reaction_added", "user": "U_ALICE", "reaction": "tada"},
                event_id="EvReact",
            )
        )
        huge = json.dumps(mention_envelope("x" * (1024 * 1024)))
        results = [
            await stack.http.post(
                stack.url, content=bad_json, headers=json_headers(SIGNING_SECRET, bad_json)
            ),
            await stack.post_form(no_payload),
            await stack.http.post(
                stack.url, content=unknown, headers=json_headers(SIGNING_SECRET, unknown)
            ),
            await stack.http.post(
                stack.url, content=huge, headers=json_headers(SIGNING_SECRET, huge)
            ),
        ]
        health = await stack.http.get(stack.url.replace("/slack/events", "/healthz"))
    codes = [r.status_code for r in results]
    assert all(code < 500 for code in codes), codes
    assert codes[2] == 200  # a subscribed event we do not use is acknowledged
    assert codes[3] == 413
    assert health.status_code == 200
    assert await _tickets(db) == []


async def test_bot_messages_open_no_ticket(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    own = event_envelope(
        bot_message(
            "<@U_BOT> I am the bot",
            bot_id="B_BOT",
            user="U_BOT",
            channel="C_HELP",
            ts="1700001000.000300",
        ),
        event_id="EvOwn",
    )
    other = event_envelope(
        bot_message(
            "<@U_BOT> deploy finished", bot_id="B_OTHER", channel="C_HELP", ts="1700001000.000400"
        ),
        event_id="EvOther",
    )
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        assert (await stack.post_json(own)).status_code == 200
        assert (await stack.post_json(other)).status_code == 200
        await asyncio.sleep(0.3)
    assert await _tickets(db) == []
    assert fake_deepseek.requests == []


async def test_thread_replies_are_stored_edits_update_and_deletes_erase(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    reply_ts = "1700001000.000500"
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        await stack.post_json(mention_envelope("export breaks accents"))
        assert await stack.settle("Ev0001") == "done"
        posts_before = len(fake_slack.calls_to("chat.postMessage"))
        events = [
            event_envelope(
                message(
                    "happens with é", user="U_ALICE", channel="C_HELP", ts=reply_ts, thread_ts=TS
                ),
                event_id="EvReply",
            ),
            event_envelope(
                message_changed(
                    "C_HELP", reply_ts, "happens with é and ñ", user="U_ALICE", thread_ts=TS
                ),
                event_id="EvEdit",
            ),
            event_envelope(message_deleted("C_HELP", TS), event_id="EvDelete"),
        ]
        for body in events:
            assert (await stack.post_json(body)).status_code == 200
            assert await stack.settle(body["event_id"]) == "done"
    async with db.sessions() as session:
        texts = dict(
            (
                await session.execute(
                    select(Message.message_id, Message.text).where(~Message.is_bot)
                )
            ).all()
        )
    assert texts == {TS: None, reply_ts: "happens with é and ñ"}
    assert len(fake_slack.calls_to("chat.postMessage")) == posts_before  # no reply to plain
