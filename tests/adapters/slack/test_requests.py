"""Request handling through the real bolt app over signed HTTP, against the fake Slack.

Recorded payloads (tests/fixtures/slack) are posted as Slack posts them; what counts is
the HTTP answer Slack gets and what reached the inbox.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from adapters.slack.adapter import SlackAdapter
from adapters.slack.settings import SlackSettings
from bot import AdapterStartError
from bot.config import LeadsSettings, load_section
from bot.store.db import Database
from bot.store.models import InboxItem, Message, Ticket
from tests.adapters.slack.harness import (
    SIGNING_SECRET,
    SlackStack,
    load_fixture,
    mention_envelope,
    slack_stack,
)
from tests.bot.harness import responder
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_interactive import json_headers, slash_command_form

TS = "1700001000.000100"


async def _inbox(db: Database) -> list[InboxItem]:
    async with db.sessions() as session:
        return list((await session.scalars(select(InboxItem))).all())


async def _tickets(db: Database) -> list[Ticket]:
    async with db.sessions() as session:
        return list((await session.scalars(select(Ticket).order_by(Ticket.id))).all())


async def _post_fixture(stack: SlackStack, name: str) -> dict[str, Any]:
    body = load_fixture(name)
    response = await stack.post_json(body)
    assert response.status_code == 200, (name, response.status_code, response.text)
    return body


# --- item 3 / 19: other bots' mentions ------------------------------------------------


async def test_a_mention_from_another_bot_is_acked_and_nothing_is_stored(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        for name in ("app_mention_from_bot", "app_mention_classic_bot"):
            await _post_fixture(stack, name)
        await asyncio.sleep(0.3)
    assert await _inbox(db) == []
    assert fake_deepseek.requests == []
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_a_mention_from_an_allowed_bot_reaches_the_core_as_a_bot(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with slack_stack(
        db, fake_slack, fake_deepseek, slack_allowed_bot_ids=["B_DEPLOY"]
    ) as stack:
        await _post_fixture(stack, "app_mention_from_bot")
        await _post_fixture(stack, "app_mention_classic_bot")  # B_HOOK is not allowed
        assert await stack.settle("EvBotMention") == "done"
        await asyncio.sleep(0.2)
    (item,) = await _inbox(db)
    assert item.event_id == "EvBotMention"
    assert item.payload["author"]["is_bot"] is True
    assert item.payload["author"]["user_id"] == "U_DEPLOY"
    async with db.sessions() as session:
        tickets = (await session.scalars(select(Ticket))).all()
    assert [t.requester_id for t in tickets] == ["U_DEPLOY"]  # an allowed bot opens a ticket


async def test_a_canvas_mention_is_acked_and_nothing_is_stored(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        await _post_fixture(stack, "app_mention_document_mention")
        await asyncio.sleep(0.3)
    assert await _inbox(db) == []


# --- item 18: deleting a message that has replies -------------------------------------


async def test_deleting_a_ticket_message_with_replies_erases_it(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        await stack.post_json(mention_envelope("export breaks accents"))
        assert await stack.settle("Ev0001") == "done"
        await _post_fixture(stack, "message_changed_tombstone")
        assert await stack.settle("EvTombstone") == "done"
    (item,) = [i for i in await _inbox(db) if i.event_id == "EvTombstone"]
    assert item.kind == "message_deleted"
    async with db.sessions() as session:
        text, deleted_at = (
            await session.execute(
                select(Message.text, Message.deleted_at).where(Message.message_id == TS)
            )
        ).one()
    assert text is None
    assert deleted_at is not None


# --- item 21: Slack Connect -------------------------------------------------------------


async def test_slack_connect_guests_write_to_the_installing_teams_tickets(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        for name, event_id in (
            ("connect_app_mention_from_host", "EvConnectHost"),
            ("connect_message_reply_from_guest", "EvConnectGuestReply"),
            ("connect_app_mention_from_guest", "EvConnectGuestMention"),
        ):
            await _post_fixture(stack, name)
            assert await stack.settle(event_id) == "done"
    host, guest = await _tickets(db)
    assert (host.workspace_id, host.thread_id) == ("T_ACME", "1700003000.000100")
    assert (guest.workspace_id, guest.thread_id) == ("T_ACME", "1700003100.000100")
    async with db.sessions() as session:
        reply = (
            await session.scalars(select(Message).where(Message.message_id == "1700003060.000200"))
        ).one()
    assert (reply.ticket_id, reply.author_id) == (host.id, "U_GLOBEX_BOB")


# --- item 2: teams the bot does not serve -----------------------------------------------


async def test_events_from_a_team_the_bot_does_not_serve_are_acked_and_skipped(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        assert stack.adapter.team_id == "T_ACME"
        await _post_fixture(stack, "app_mention_other_team")
        url = fake_slack.new_response_url()
        form = slash_command_form("summary", team_id="T_INITECH", response_url=url)
        assert (await stack.post_form(form)).status_code == 200
        await asyncio.sleep(0.3)
    assert await _inbox(db) == []
    assert fake_deepseek.requests == []
    assert fake_slack.response_posts[url.rsplit("/", 1)[-1]] == []


# --- item 8: an accepted event is never lost ------------------------------------------


def _adapter(fake: FakeSlack, **values: Any) -> SlackAdapter:
    class NoIntake:
        async def submit(self, event: object) -> None:
            raise AssertionError("nothing may be submitted")

    values = {
        "slack_bot_token": fake.bot_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_app_token": fake.app_token,
        "slack_api_url": fake.base_url,
        **values,
    }
    settings = load_section(SlackSettings, **values)
    return SlackAdapter.from_settings(settings, leads=LeadsSettings(), intake=NoIntake())  # type: ignore[arg-type]


async def test_start_http_authorizes_first_and_a_failure_is_a_start_error(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.fail("auth.test", "invalid_auth")
    adapter = _adapter(fake_slack)
    try:
        with pytest.raises(AdapterStartError, match=r"auth\.test.*invalid_auth.*SLACK_BOT_TOKEN"):
            await adapter.start_http("127.0.0.1", 0)
    finally:
        await adapter.stop()
        await adapter.close()
    assert adapter.team_id is None
    ok = _adapter(fake_slack)
    try:
        await ok.start_http("127.0.0.1", 0)
        assert (ok.team_id, ok.ids.team_id, ok.ids.bot_user_id) == ("T_ACME", "T_ACME", "U_BOT")
    finally:
        await ok.stop()
    assert len(fake_slack.calls_to("auth.test")) == 2


async def test_start_socket_mode_authorizes_first_and_a_failure_is_a_start_error(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.fail("auth.test", "account_inactive")
    adapter = _adapter(fake_slack)
    try:
        with pytest.raises(AdapterStartError, match="account_inactive"):
            await adapter.start_socket_mode()
    finally:
        await adapter.stop()
        await adapter.close()
    assert fake_slack.calls_to("apps.connections.open") == []  # never connected


async def test_an_unreachable_slack_at_start_is_a_start_error(fake_slack: FakeSlack) -> None:
    adapter = _adapter(fake_slack, slack_api_url="http://127.0.0.1:9/api/")
    try:
        with pytest.raises(AdapterStartError, match="cannot reach Slack"):
            await adapter.start_http("127.0.0.1", 0)
    finally:
        await adapter.stop()
        await adapter.close()


async def test_an_event_arriving_while_identity_is_unknown_gets_a_5xx_and_its_retry_is_stored(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    fake_slack.fail("auth.test", "internal_error", times=1)
    body = mention_envelope("is this lost?", event_id="EvEarly")
    async with slack_stack(db, fake_slack, fake_deepseek, start=False) as stack:
        first = await stack.post_json(body)
        assert first.status_code >= 500, (first.status_code, first.text)
        assert await _inbox(db) == []
        retry = await stack.post_json(body, **{"X-Slack-Retry-Num": "1"})
        assert retry.status_code == 200
        assert await stack.settle("EvEarly") == "done"
    assert len(await _tickets(db)) == 1


async def test_a_command_or_click_while_identity_is_unknown_gets_a_5xx(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_slack.fail("auth.test", "internal_error", times=2)
    async with slack_stack(db, fake_slack, fake_deepseek, start=False) as stack:
        command = slash_command_form("help", response_url=fake_slack.new_response_url())
        click = "payload=" + quote(json.dumps(load_fixture("block_actions_claim_from_guest")))
        results = [await stack.post_form(command), await stack.post_form(click)]
    assert [r.status_code >= 500 for r in results] == [True, True], results
    assert await _inbox(db) == []


# --- item 12: odd requests get a 4xx, never a 500 ---------------------------------------


def _signed_with(timestamp: str, raw: str) -> dict[str, str]:
    base = f"v0:{timestamp}:{raw}".encode()
    digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
    }


def _event_callback(event: Any) -> str:
    body = mention_envelope("odd")
    body["event"] = event
    return json.dumps(body)


ODD_JSON = {
    "list": "[]",
    "string": '"x"',
    "number": "3",
    "null": "null",
    "event as a list": _event_callback([{"type": "app_mention"}]),
    "event as a string": _event_callback("app_mention"),
    "event type as a list": _event_callback({"type": ["app_mention"], "ts": TS}),
    "authorizations as a string": json.dumps(
        {**mention_envelope("odd"), "authorizations": "T_ACME"}
    ),
}
ODD_FORMS = {
    "payload=[]": "payload=%5B%5D",
    "payload=notjson": "payload=notjson",
    "payload=3": "payload=3",
    "actions as a string": "payload="
    + quote(json.dumps({**load_fixture("block_actions_claim_from_guest"), "actions": "claim"})),
    "team as a number": "payload="
    + quote(json.dumps({**load_fixture("block_actions_claim_from_guest"), "team": 7})),
}


async def test_odd_requests_get_a_4xx_never_a_500_and_nothing_is_stored(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        codes: dict[str, int] = {}
        for name, raw in ODD_JSON.items():
            headers = json_headers(SIGNING_SECRET, raw)
            codes[name] = (
                await stack.http.post(stack.url, content=raw, headers=headers)
            ).status_code
        for name, raw in ODD_FORMS.items():
            codes[name] = (await stack.post_form(raw)).status_code
        raw = json.dumps(mention_envelope("bad clock"))
        for stamp in ("abc", "12.5", ""):
            response = await stack.http.post(
                stack.url, content=raw, headers=_signed_with(stamp, raw)
            )
            codes[f"timestamp {stamp!r}"] = response.status_code
        unsigned = await stack.http.post(
            stack.url, content="[]", headers={"Content-Type": "application/json"}
        )
        codes["unsigned list"] = unsigned.status_code
        health = await stack.http.get(stack.url.replace("/slack/events", "/healthz"))
        assert await _inbox(db) == []
        after = await stack.post_json(mention_envelope("still fine", event_id="EvAfterOdd"))
        assert await stack.settle("EvAfterOdd") is not None
    assert all(code in (400, 401) for code in codes.values()), codes
    assert codes["unsigned list"] == 401  # a stranger learns nothing about our parsing
    assert (health.status_code, after.status_code) == (200, 200)
    assert [i.event_id for i in await _inbox(db)] == ["EvAfterOdd"]
