"""A custom taxonomy through the real Slack adapter: prompt, verdict, correction, rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.config.playbook import Playbook, Playbooks
from bot.config.product import Product
from bot.config.taxonomy import CategoryDef, Taxonomy
from bot.store.db import Database
from bot.store.models import Ticket, TriageRun
from tests.adapters.slack.harness import mention_envelope, slack_stack
from tests.bot.harness import triage_json, triage_requests
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.slack import FakeSlack

SHOP = Playbook(
    product=Product(name="Hearth & Loom", description="an online shop for home textiles"),
    taxonomy=Taxonomy(
        categories=(
            CategoryDef(
                name="orders",
                description="where an order is, changing or cancelling it",
                keywords=("parcel", "tracking", "order"),
            ),
            CategoryDef(
                name="returns",
                description="returning or exchanging an item",
                keywords=("send it back", "return", "exchange"),
            ),
            CategoryDef(name="other", description="anything else"),
        )
    ),
)
# The second workspace keeps the default taxonomy: tenants configure their own desks.
PLAYBOOKS = Playbooks(default=Playbook(), workspaces={"T_ACME": SHOP})


async def _ticket(db: Database) -> Ticket:
    async with db.sessions() as session:
        (ticket,) = (await session.scalars(select(Ticket))).all()
        return ticket


async def _runs(db: Database) -> list[TriageRun]:
    async with db.sessions() as session:
        return list((await session.scalars(select(TriageRun))).all())


def _card_texts(fake_slack: FakeSlack) -> list[str]:
    texts: list[str] = []
    for post in fake_slack.calls_to("chat.postMessage"):
        texts += [str(block) for block in post.blocks]
    return texts


async def _mention(db: Database, slack: FakeSlack, deepseek: FakeDeepSeek | None, text: str) -> Any:
    async with slack_stack(db, slack, deepseek, playbooks=PLAYBOOKS) as stack:
        response = await stack.post_json(mention_envelope(text))
        assert response.status_code == 200
        assert await stack.settle("Ev0001") == "done"


async def test_the_workspace_taxonomy_is_the_prompt_and_its_verdict_is_kept(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(triage_json(category="Returns", urgency="medium", needs_human=True))
    await _mention(
        db, fake_slack, fake_deepseek, "the curtains are the wrong size, can I swap them?"
    )
    (request,) = triage_requests(fake_deepseek)
    prompt = request["messages"][0]["content"]
    assert "Hearth & Loom" in prompt
    assert '"orders"' in prompt
    assert '"returns"' in prompt
    assert '"billing"' not in prompt
    ticket = await _ticket(db)
    assert ticket.category == "returns"  # any case accepted, stored as named
    assert "returns" in " ".join(_card_texts(fake_slack))


async def test_an_out_of_taxonomy_verdict_is_corrected_then_the_rules_decide(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.reply(triage_json(category="billing", urgency="low"))
    fake_deepseek.reply(triage_json(category="shipping", urgency="low"))
    await _mention(db, fake_slack, fake_deepseek, "my parcel tracking hasn't moved in a week")
    first, correction = triage_requests(fake_deepseek)
    assert first["messages"][0] == correction["messages"][0]  # same cached prefix
    assert "billing" in correction["messages"][-1]["content"]
    ticket = await _ticket(db)
    # Never accepted: the rules read "parcel" and "tracking" and a person checks.
    assert (ticket.category, ticket.route) == ("orders", "human")
    (run,) = await _runs(db)
    assert run.source == "fallback"


async def test_offline_the_workspace_keywords_decide(db: Database, fake_slack: FakeSlack) -> None:
    await _mention(db, fake_slack, None, "How do I send it back? It arrived torn.")
    ticket = await _ticket(db)
    assert (ticket.category, ticket.route) == ("returns", "human")
