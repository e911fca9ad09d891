""" "Save as answer" end to end: the real bolt app over HTTP, the fake Slack behind it.

A lead clicks the button on a resolved ticket's card, the form opens prefilled with the
draft (`views.open` as the fake received it), the lead edits and submits it, and an
`AnswerApproved` reaches the intake. The core's two doors are small real classes here:
an intake that keeps what it is handed and a dict of drafts that knows the leads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from adapters.base import AnswerDraft, Drafts
from adapters.slack.adapter import SlackAdapter
from bot.events import ActionInvoked, Actor, AnswerApproved, Event, Place
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_interactive import (
    block_actions_form,
    button_action,
    form_headers,
    view_submission_form,
)

SIGNING_SECRET = "save-answer-signing-secret"
CARD_TS, THREAD_TS = "1700005001.000300", "1700005000.000100"
DRAFT = AnswerDraft(ticket_id=12, question="Charged twice?", answer="We refund the second one.")


class KeptIntake:
    """An intake that keeps every event it is handed (False for a repeated id)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def submit(self, event: Event) -> bool:
        repeated = any(e.event_id == event.event_id for e in self.events)
        self.events.append(event)
        return not repeated


class DictDrafts:
    """Drafts by ticket id, for members of the lead group only (as the core decides)."""

    def __init__(self, drafts: dict[int, AnswerDraft], lead_role: str = "S_LEADS") -> None:
        self._drafts = drafts
        self._lead_role = lead_role
        self.asked: list[tuple[Actor, Place, int]] = []

    async def draft_for(self, actor: Actor, place: Place, ticket_id: int) -> AnswerDraft | None:
        self.asked.append((actor, place, ticket_id))
        return self._drafts.get(ticket_id) if self._lead_role in actor.roles else None


@dataclass
class Stack:
    fake: FakeSlack
    intake: KeptIntake
    http: httpx.AsyncClient
    url: str

    async def post(self, form: str) -> httpx.Response:
        headers = form_headers(SIGNING_SECRET, form)
        return await self.http.post(self.url, content=form, headers=headers)

    async def click(self, action_id: str, *, user: str, trigger: str = "trig-1") -> list[dict]:
        """Press a card button; what the clicker was told on its response_url."""
        response_url = self.fake.new_response_url()
        form = block_actions_form(
            [button_action(action_id, "12", block_id="ticket-12")],
            user_id=user,
            channel_id="C_LEADS",
            message_ts=CARD_TS,
            thread_ts=THREAD_TS,
            response_url=response_url,
            trigger_id=trigger,
        )
        response = await self.post(form)
        assert response.status_code == 200
        return self.fake.response_posts[response_url.rsplit("/", 1)[-1]]

    async def submit(self, view: dict[str, Any], question: str, answer: str) -> httpx.Response:
        values = {"question": {"text": question}, "answer": {"text": answer}}
        return await self.post(view_submission_form(view, values, user_id="U_LEAD"))


@asynccontextmanager
async def stack(fake: FakeSlack, drafts: Drafts | None) -> AsyncIterator[Stack]:
    fake.usergroup_members["S_LEADS"] = ["U_LEAD"]
    intake = KeptIntake()
    adapter = SlackAdapter(
        intake=intake,
        bot_token=fake.bot_token,
        signing_secret=SIGNING_SECRET,
        api_url=fake.base_url,
        lead_group_id="S_LEADS",
        drafts=drafts,
    )
    port = await adapter.start_http("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            yield Stack(fake, intake, http, f"http://127.0.0.1:{port}/slack/events")
    finally:
        await adapter.stop()
        await adapter.close()


def _inputs(view: dict[str, Any]) -> dict[str, str]:
    return {
        b["block_id"]: b["element"].get("initial_value", "")
        for b in view["blocks"]
        if b["type"] == "input"
    }


async def test_a_lead_opens_the_form_prefilled_and_saves_the_edited_answer(
    fake_slack: FakeSlack,
) -> None:
    drafts = DictDrafts({12: DRAFT})
    async with stack(fake_slack, drafts) as s:
        told = await s.click("ticket:save-answer", user="U_LEAD", trigger="trig-lead")
        (opened,) = fake_slack.calls_to("views.open")
        (modal,) = fake_slack.modals
        response = await s.submit(modal, DRAFT.question, "We refund it within 5 days.")
        again = await s.submit(modal, DRAFT.question, "We refund it within 5 days.")
    assert again.status_code == 200
    assert told == []  # nothing said: the form is the answer
    assert opened.params["trigger_id"] == "trig-lead"
    assert modal["callback_id"] == "save_answer"
    assert _inputs(modal) == {"question": DRAFT.question, "answer": DRAFT.answer}
    ((actor, place, ticket_id),) = drafts.asked
    assert (actor.user_id, actor.roles, ticket_id) == ("U_LEAD", ("S_LEADS",), 12)
    assert (place.workspace_id, place.channel_id, place.thread_id) == (
        "T_ACME",
        "C_LEADS",
        THREAD_TS,
    )
    assert response.status_code == 200
    assert response.text == ""  # an empty ack: Slack closes the form
    first, repeated = s.intake.events
    assert isinstance(first, AnswerApproved)
    assert (first.ticket_id, first.question, first.answer) == (
        12,
        DRAFT.question,
        "We refund it within 5 days.",
    )
    assert first.place == place
    assert first.actor == actor
    assert first.event_id == f"view:{modal['id']}:{modal['hash']}"
    assert repeated.event_id == first.event_id  # a redelivery: the inbox drops it


async def test_an_empty_answer_keeps_the_form_open_with_an_error_under_it(
    fake_slack: FakeSlack,
) -> None:
    async with stack(fake_slack, DictDrafts({12: DRAFT})) as s:
        await s.click("ticket:save-answer", user="U_LEAD")
        response = await s.submit(fake_slack.modals[0], DRAFT.question, "   ")
    assert response.status_code == 200
    assert response.json() == {
        "response_action": "errors",
        "errors": {"answer": "Write the answer to save."},
    }
    assert s.intake.events == []


async def test_someone_who_may_not_save_is_told_privately_and_no_form_opens(
    fake_slack: FakeSlack,
) -> None:
    async with stack(fake_slack, DictDrafts({12: DRAFT})) as s:
        told = await s.click("ticket:save-answer", user="U_ALICE")
    (refusal,) = told
    assert refusal["response_type"] == "ephemeral"
    assert refusal["text"] == ("Only support leads can save answers from resolved tickets here.")
    assert fake_slack.calls_to("views.open") == []
    assert s.intake.events == []


async def test_without_drafts_the_button_says_saving_is_not_available(
    fake_slack: FakeSlack,
) -> None:
    async with stack(fake_slack, None) as s:
        told = await s.click("ticket:save-answer", user="U_LEAD")
    assert "isn't available" in told[0]["text"]
    assert fake_slack.calls_to("views.open") == []
    assert s.intake.events == []


async def test_a_form_slack_would_not_open_is_explained(fake_slack: FakeSlack) -> None:
    fake_slack.fail("views.open", "expired_trigger_id")
    async with stack(fake_slack, DictDrafts({12: DRAFT})) as s:
        told = await s.click("ticket:save-answer", user="U_LEAD")
    assert len(fake_slack.calls_to("views.open")) == 1
    assert "could not open in time" in told[0]["text"]


async def test_the_other_card_buttons_still_reach_the_inbox(fake_slack: FakeSlack) -> None:
    async with stack(fake_slack, DictDrafts({12: DRAFT})) as s:
        await s.click("ticket:reopen", user="U_LEAD", trigger="trig-reopen")
    (event,) = s.intake.events
    assert isinstance(event, ActionInvoked)
    assert (event.action, event.ticket_id) == ("reopen", 12)
    assert fake_slack.calls_to("views.open") == []
