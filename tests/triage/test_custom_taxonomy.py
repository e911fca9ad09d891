"""A workspace's own taxonomy and product, over the wire: the real DeepSeek client
against the HTTP fake, the prompts generated from the playbook, the verdict checked
against that playbook's categories."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.config.playbook import Playbook, Playbooks
from bot.config.product import Product
from bot.config.taxonomy import CategoryDef, Taxonomy
from bot.flow.answers import Writer
from bot.llm.client import DeepSeekClient
from bot.llm.pricing import PriceTable
from bot.llm.types import CallContext
from bot.store.db import Database
from bot.store.ledger import SqlCallRecorder
from bot.store.models import LlmCall
from bot.tickets.queries import ThreadLine, TicketFacts
from tests.conftest import FAKE_KEY
from tests.fakes.deepseek import FakeDeepSeek
from triage.classify import Classifier
from triage.prompts import PromptBook

GAME = Playbook(
    taxonomy=Taxonomy(
        categories=(
            CategoryDef(
                name="crash",
                description="the game closes, freezes or will not start",
                examples=("The game closes when the map loads",),
            ),
            CategoryDef(name="matchmaking", description="finding a match, lobbies and ranks"),
            CategoryDef(name="purchases", description="coins, skins and in-game refunds"),
            CategoryDef(name="other", description="anything else"),
        )
    ),
    product=Product(name="Starfall", description="an online space shooter"),
)
SHOP = Playbook(
    taxonomy=Taxonomy(
        categories=(
            CategoryDef(name="orders", description="where an order is, changing it"),
            CategoryDef(name="returns", description="sending an item back"),
        )
    ),
    product=Product(
        name="Hearth & Loom",
        description="an online shop for home textiles",
        tone="warm and plain-spoken",
        rules=("Never promise a delivery date", "Returns are free within 30 days"),
    ),
)
PLAYBOOKS = Playbooks(default=Playbook(), workspaces={"G1": GAME, "T1": SHOP})
CRASH_TEXT = "The game closes every time I open the star map."
GAME_CONTEXT = CallContext(purpose="ticket", workspace_id="G1", user_id="U1")
GAME_NAMES = '"crash", "matchmaking", "purchases", "other"'


def verdict(**changes: Any) -> str:
    data = {
        "category": "crash",
        "urgency": "medium",
        "summary": "The game closes when the star map opens.",
        "needs_human": False,
        "confidence": 0.9,
        **changes,
    }
    return json.dumps(data)


@pytest.fixture
async def client(
    fake_deepseek: FakeDeepSeek, ledger: SqlCallRecorder
) -> AsyncIterator[DeepSeekClient]:
    async with DeepSeekClient(
        api_key=SecretStr(FAKE_KEY),
        base_url=fake_deepseek.base_url,
        prices=PriceTable.load(),
        recorder=ledger,
        timeout=5,
        deadline=10,
        max_attempts=1,
        backoff_initial=0.001,
        backoff_max=0.01,
    ) as llm:
        yield llm


@pytest.fixture
def classifier(client: DeepSeekClient) -> Classifier:
    return Classifier(llm=client, model="deepseek-chat", prompts=PromptBook(), playbooks=PLAYBOOKS)


def system_of(body: dict[str, Any]) -> str:
    first = body["messages"][0]
    assert first["role"] == "system"
    return first["content"]


async def ledger_rows(db: Database) -> list[LlmCall]:
    async with db.sessions() as session:
        return list((await session.scalars(select(LlmCall).order_by(LlmCall.id))).all())


# --- triage -----------------------------------------------------------------------


async def test_the_generated_prompt_goes_out_and_a_custom_verdict_is_accepted(
    classifier: Classifier, fake_deepseek: FakeDeepSeek, db: Database
) -> None:
    fake_deepseek.reply(verdict())
    outcome = await classifier.classify(CRASH_TEXT, context=GAME_CONTEXT)

    assert (outcome.source, outcome.llm_calls, outcome.corrected) == ("llm", 1, False)
    assert (outcome.result.category, outcome.result.urgency) == ("crash", "medium")
    (body,) = fake_deepseek.chat_requests
    expected = PromptBook().for_playbook("triage", GAME).text
    assert system_of(body).encode("utf-8") == expected.encode("utf-8")
    assert f"one of {GAME_NAMES}." in system_of(body)
    assert '    Example ticket: "The game closes when the map loads"' in system_of(body)
    assert "Starfall, an online space shooter" in system_of(body)
    rows = await ledger_rows(db)
    assert [(r.purpose, r.prompt_version, r.workspace_id) for r in rows] == [
        ("triage", "triage.v3", "G1")
    ]


async def test_an_out_of_taxonomy_verdict_gets_exactly_one_correction(
    classifier: Classifier, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(verdict(category="bug"))
    fake_deepseek.reply(verdict(category="Crash"))
    outcome = await classifier.classify(CRASH_TEXT, context=GAME_CONTEXT)

    assert (outcome.source, outcome.llm_calls, outcome.corrected) == ("llm", 2, True)
    assert outcome.result.category == "crash"
    first, second = fake_deepseek.chat_requests
    assert second["messages"][:2] == first["messages"]
    correction = second["messages"][3]["content"]
    assert correction.startswith("Validation Error found:")
    assert f"\"category\": 'bug' is not one of {GAME_NAMES}" in correction


async def test_a_second_bad_verdict_ends_with_the_rules_in_the_taxonomy(
    classifier: Classifier, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(verdict(category="billing"))
    fake_deepseek.reply(verdict(category="refund"))
    fake_deepseek.reply(verdict())  # a third request would get a valid verdict: never made
    outcome = await classifier.classify(CRASH_TEXT, context=GAME_CONTEXT)

    assert outcome.source == "fallback"
    assert (outcome.llm_calls, outcome.corrected) == (2, True)
    assert len(fake_deepseek.chat_requests) == 2
    assert fake_deepseek.pending == 1
    assert outcome.fallback_reason == (
        f"invalid output after correction: \"category\": 'refund' is not one of {GAME_NAMES}"
    )
    assert outcome.result.category in GAME.taxonomy.names
    assert outcome.result.needs_human is True


async def test_each_workspace_gets_its_own_prompt_and_taxonomy(
    classifier: Classifier, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(verdict())
    fake_deepseek.reply(verdict(category="orders"))
    fake_deepseek.reply(verdict(category="bug"))
    game = await classifier.classify(CRASH_TEXT, context=GAME_CONTEXT)
    shop = await classifier.classify(
        "Where is my parcel?", context=CallContext(purpose="ticket", workspace_id="T1")
    )
    # A workspace without a playbook of its own gets the default one.
    other = await classifier.classify(
        "The export fails.", context=CallContext(purpose="ticket", workspace_id="T9")
    )

    assert [o.result.category for o in (game, shop, other)] == ["crash", "orders", "bug"]
    assert [o.llm_calls for o in (game, shop, other)] == [1, 1, 1]
    systems = [system_of(body) for body in fake_deepseek.chat_requests]
    book = PromptBook()
    assert systems == [
        book.for_playbook("triage", GAME).text,
        book.for_playbook("triage", SHOP).text,
        book.get("triage").text,
    ]
    assert len(set(systems)) == 3
    assert '"orders", "returns"' in systems[1]
    assert "crash" not in systems[1]


async def test_a_verdict_fits_only_its_own_workspaces_taxonomy(
    classifier: Classifier, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(verdict(category="crash"))  # a game category, asked by the shop
    fake_deepseek.reply(verdict(category="returns"))
    outcome = await classifier.classify(
        "I want to send the throw back.", context=CallContext(purpose="ticket", workspace_id="T1")
    )
    assert (outcome.result.category, outcome.corrected) == ("returns", True)
    correction = fake_deepseek.chat_requests[1]["messages"][3]["content"]
    assert '\'crash\' is not one of "orders", "returns"' in correction


async def test_rules_without_the_model_use_the_workspaces_taxonomy() -> None:
    classifier = Classifier(
        llm=None, model="deepseek-chat", prompts=PromptBook(), playbooks=PLAYBOOKS
    )
    offline = classifier.offline(CRASH_TEXT, "over the rate limit", workspace_id="G1")
    no_key = await classifier.classify(CRASH_TEXT, context=GAME_CONTEXT)
    for outcome in (offline, no_key):
        assert outcome.source == "fallback"
        assert outcome.result.category in GAME.taxonomy.names
        assert outcome.prompt_version == "triage.v3"
    assert classifier.offline("My invoice is wrong", "busy").result.category == "billing"


# --- answers --------------------------------------------------------------------

FACTS = TicketFacts(ticket_id=7, category="orders", urgency="medium", summary="Parcel late.")
LINES = [ThreadLine(author="user", text="My parcel is two weeks late.")]


async def test_the_answer_prompt_carries_the_workspaces_product_rules(
    client: DeepSeekClient, fake_deepseek: FakeDeepSeek
) -> None:
    writer = Writer(
        llm=client,
        prompts=PromptBook(),
        chat_model="deepseek-chat",
        reasoner_model="deepseek-reasoner",
        playbooks=PLAYBOOKS,
    )
    fake_deepseek.reply("Sorry it is late; the tracking link in your order email has news.")
    fake_deepseek.reply("A person from the team will follow up here.")
    shop = CallContext(purpose="ticket", ticket_id=7, workspace_id="T1")
    reply = await writer.answer(FACTS, LINES, None, deep=False, context=shop)
    elsewhere = CallContext(purpose="ticket", ticket_id=8, workspace_id="T9")
    await writer.answer(FACTS, LINES, None, deep=False, context=elsewhere)

    assert reply.from_model is True
    shop_system, default_system = (system_of(b) for b in fake_deepseek.chat_requests)
    assert shop_system == PromptBook().for_playbook("answer", SHOP).text
    assert shop_system.startswith("You are a support assistant for Hearth & Loom, an online")
    assert "- Be warm and plain-spoken:" in shop_system
    assert (
        "The team's own rules, which always apply:\n"
        "- Never promise a delivery date.\n"
        "- Returns are free within 30 days.\n"
    ) in shop_system
    assert default_system == PromptBook().get("answer").text
    assert "own rules" not in default_system
