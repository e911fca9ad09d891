""" "Save as answer": the card's button opens a form on the draft, and the submitted form
becomes AnswerApproved. Recorded payloads first, then the real adapter against the fake."""

from __future__ import annotations

import copy
from typing import Any

import discord
import pytest
from sqlalchemy import select

from adapters.discord.forms import save_answer_modal
from adapters.discord.to_event import from_component, from_modal_submit, parse_save_form, save_press
from bot.events import Actor, AnswerApproved, Place, Platform
from bot.pipeline.ports import AnswerDraft
from bot.store.db import Database
from bot.store.models import InboxItem
from tests.adapters.discord.harness import ALICE, LEAD_ROLE, LEADS, LEE, DiscordStack, discord_stack
from tests.adapters.discord.test_to_event import APPLICATION, GUILD, World, load, make_world
from tests.adapters.discord.test_to_event import LEADS as RECORDED_LEADS
from tests.adapters.discord.test_to_event import LEE as RECORDED_LEE
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_payloads import component_interaction, modal_submit_interaction

QUESTION = "I was charged twice for the same month. How do I get a refund?"
ANSWER = (
    "Duplicate charges are refunded automatically within 5 business days.\n"
    "If it has been longer, open Billing → Invoices and press **Request refund** on the duplicate."
)
LEADS_ONLY = "Only support leads can save answers from resolved tickets here."


class DictDrafts:
    """The `Drafts` port over a dict: (user id, ticket id) -> draft; a miss is a refusal."""

    def __init__(self, drafts: dict[tuple[str, int], AnswerDraft]) -> None:
        self._drafts = drafts
        self.asked: list[tuple[Actor, Place, int]] = []

    async def draft_for(self, actor: Actor, place: Place, ticket_id: int) -> AnswerDraft | None:
        self.asked.append((actor, place, ticket_id))
        return self._drafts.get((actor.user_id, ticket_id))


# --- recorded payloads --------------------------------------------------------------------


@pytest.fixture
def world() -> World:
    return make_world()


def test_a_submitted_form_becomes_answer_approved_with_the_leads_text(world: World) -> None:
    interaction = world.parse("INTERACTION_CREATE", load("modal_submit_save_answer"))
    assert interaction.type is discord.InteractionType.modal_submit
    token = "aW50ZXJhY3Rpb246MTI0Mzg5MzUwODU5NDM1MjE5ODpNb2RhbFN1Ym1pdFNhdmVBbnN3ZXI3"
    assert from_modal_submit(interaction) == AnswerApproved(
        event_id="interaction:1243893508594352198",
        place=Place(platform=Platform.DISCORD, workspace_id=GUILD, channel_id=RECORDED_LEADS),
        actor=RECORDED_LEE,
        ticket_id=7,
        question=QUESTION,
        answer=ANSWER,
        reply_handle=f"{APPLICATION}:{token}",
    )


def _form(custom_id: str = "save-answer:7", **values: Any) -> dict[str, Any]:
    data = copy.deepcopy(load("modal_submit_save_answer")["data"])
    data["custom_id"] = custom_id
    for row in data["components"]:
        field = row["component"]["custom_id"]
        if field in values:
            if values[field] is None:
                del row["component"]["value"]
            else:
                row["component"]["value"] = values[field]
    return data


@pytest.mark.parametrize(
    "data",
    [
        _form("ticket:save-answer:7"),
        _form("save-answer:seven"),
        _form("save-answer:7:x"),
        _form("other-form:7"),
        _form(answer=None),
        _form(question="   \n "),
        {**_form(), "components": "not a list"},
        {**_form(), "components": [None, 3, {"type": 18}]},
        {"custom_id": "save-answer:7"},
        {},
    ],
)
def test_forms_the_adapter_cannot_save_are_skipped(data: dict[str, Any]) -> None:
    assert parse_save_form(data) is None


def test_a_form_in_action_rows_is_read_too() -> None:
    """The shape before labels (type 18), which Discord still sends for older forms."""
    data = _form()
    data["components"] = [
        {"type": 1, "components": [row["component"]]} for row in data["components"]
    ]
    assert parse_save_form(data) == (7, QUESTION, ANSWER)


def test_a_malformed_recorded_submit_gives_none(world: World) -> None:
    payload = load("modal_submit_save_answer")
    payload["data"] = _form(question=None)
    assert from_modal_submit(world.parse("INTERACTION_CREATE", payload)) is None


def test_the_save_button_is_a_form_request_not_an_action(world: World) -> None:
    interaction = world.parse("INTERACTION_CREATE", load("interaction_button_save_answer"))
    assert from_component(interaction) is None  # never an ActionInvoked
    place = Place(platform=Platform.DISCORD, workspace_id=GUILD, channel_id=RECORDED_LEADS)
    assert save_press(interaction) == (RECORDED_LEE, place, 7)
    assert save_press(world.parse("INTERACTION_CREATE", load("interaction_button_claim"))) is None


async def test_the_form_is_prefilled_and_cut_to_discords_limits() -> None:
    family = "\U0001f469\u200d\U0001f469\u200d\U0001f467"  # one emoji, 5 code points
    long = "é" * 3997 + family + " and the rest"
    form = save_answer_modal(AnswerDraft(ticket_id=7, question=QUESTION, answer=long)).to_dict()
    assert (form["custom_id"], form["title"]) == ("save-answer:7", "Save as answer")
    labels = [(row["type"], row["label"]) for row in form["components"]]
    assert labels == [(18, "Question"), (18, "Answer")]
    question, answer = (row["component"] for row in form["components"])
    assert (question["style"], question["required"], question["value"]) == (2, True, QUESTION)
    assert (answer["custom_id"], answer["max_length"]) == ("answer", 4000)
    assert answer["value"] == "é" * 3997 + "…"  # not cut inside the emoji, and marked


# --- against the fake Discord ---------------------------------------------------------------


def _answers(fake: FakeDiscord, interaction: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in fake.interaction_callbacks if c["interaction_id"] == interaction["id"]]


async def _press_save(stack: DiscordStack, *, user: int, roles: tuple[int, ...] = ()) -> dict:
    press = component_interaction(
        "ticket:save-answer:7", user_id=user, roles=roles, channel_id=LEADS, message_id=9001
    )
    await stack.fake.dispatch("INTERACTION_CREATE", press)
    await stack.fake.wait_until(lambda: bool(_answers(stack.fake, press)))
    return press


async def _inbox(db: Database, kind: str) -> list[dict[str, Any]]:
    async with db.sessions() as session:
        rows = await session.scalars(select(InboxItem.payload).where(InboxItem.kind == kind))
        return list(rows.all())


async def test_a_lead_edits_the_draft_in_a_form_and_the_edit_reaches_the_core(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    drafts = DictDrafts({(str(LEE), 7): AnswerDraft(7, "How do refunds work?", "A" * 5000)})
    async with discord_stack(db, fake_discord, fake_deepseek, drafts=drafts) as stack:
        press = await _press_save(stack, user=LEE, roles=(LEAD_ROLE,))
        edited = {"question": "How long do refunds take?", "answer": "Five business days."}
        submit = modal_submit_interaction("save-answer:7", edited, user_id=LEE, roles=[LEAD_ROLE])
        await stack.fake.dispatch("INTERACTION_CREATE", submit)
        await stack.fake.wait_until(lambda: bool(_answers(fake_discord, submit)))
    ((actor, place, ticket_id),) = drafts.asked
    assert (actor.user_id, actor.roles, ticket_id) == (str(LEE), (str(LEAD_ROLE),), 7)
    assert (place.workspace_id, place.channel_id) == ("2000", str(LEADS))
    (modal,) = _answers(fake_discord, press)
    assert modal["type"] == 9  # the form, as the first and only answer to the press
    assert (modal["data"]["custom_id"], modal["data"]["title"]) == (
        "save-answer:7",
        "Save as answer",
    )
    question, answer = (row["component"] for row in modal["data"]["components"])
    assert question["value"] == "How do refunds work?"
    assert answer["value"] == "A" * 3999 + "…"  # what Discord accepts (the fake checks)
    (saving,) = _answers(fake_discord, submit)
    assert (saving["type"], saving["data"]["flags"]) == (4, 64)
    (approved,) = await _inbox(db, "answer_approved")
    assert approved["event_id"] == f"interaction:{submit['id']}"
    assert (approved["ticket_id"], approved["question"], approved["answer"]) == (
        7,
        "How long do refunds take?",
        "Five business days.",
    )
    assert approved["actor"]["user_id"] == str(LEE)
    assert approved["reply_handle"].endswith(submit["token"])
    assert await _inbox(db, "action_invoked") == []


async def test_someone_the_core_refuses_gets_a_private_no_and_no_form(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    drafts = DictDrafts({(str(LEE), 7): AnswerDraft(7, "Q", "A")})
    async with discord_stack(db, fake_discord, fake_deepseek, drafts=drafts) as stack:
        press = await _press_save(stack, user=ALICE)
    (refusal,) = _answers(fake_discord, press)
    assert (refusal["type"], refusal["data"]["flags"]) == (4, 64)
    assert refusal["data"]["content"] == LEADS_ONLY
    assert [c["type"] for c in fake_discord.interaction_callbacks] == [4]
    assert await _inbox(db, "action_invoked") == []


async def test_without_drafts_the_button_says_saving_is_not_available(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        press = await _press_save(stack, user=LEE, roles=(LEAD_ROLE,))
    (answer,) = _answers(fake_discord, press)
    assert (answer["type"], answer["data"]["flags"]) == (4, 64)
    assert "isn't available" in answer["data"]["content"]


async def test_a_malformed_form_is_answered_and_skipped(
    db: Database, fake_discord: FakeDiscord, fake_deepseek: FakeDeepSeek
) -> None:
    async with discord_stack(db, fake_discord, fake_deepseek) as stack:
        submit = modal_submit_interaction("save-answer:7", {"question": "Only a question"})
        await stack.fake.dispatch("INTERACTION_CREATE", submit)
        await stack.fake.wait_until(lambda: bool(_answers(fake_discord, submit)))
    (answer,) = _answers(fake_discord, submit)
    assert (answer["type"], answer["data"]["flags"]) == (4, 64)
    assert "nothing was saved" in answer["data"]["content"]
    assert await _inbox(db, "answer_approved") == []
