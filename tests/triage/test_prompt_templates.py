"""Prompts generated from the playbook: the taxonomy in triage.v3, the product in the
answer prompts; byte-identical for equal configurations, so the prompt cache hits."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources

import jinja2
import pytest

from bot.config.playbook import Playbook
from bot.config.product import Product
from bot.config.taxonomy import CategoryDef, Taxonomy, UrgencyDef
from triage.prompts import PROMPT_NAMES, PromptBook, prompt_digests
from triage.schema import parse_triage
from triage.templates import prompt_environment

ANSWER_PROMPTS = ("answer", "grounded_answer", "answer_draft", "reasoner_brief")


def game_studio(crash: str = "the game closes, freezes or will not start") -> Playbook:
    """Built from scratch on every call: equal playbooks, never the same objects."""
    return Playbook(
        taxonomy=Taxonomy(
            categories=(
                CategoryDef(
                    name="crash",
                    description=crash,
                    examples=("The game closes when the map loads", "Black screen after patch"),
                ),
                CategoryDef(name="matchmaking", description="finding a match, lobbies, ranks"),
                CategoryDef(
                    name="purchases",
                    description="coins, skins, refunds for in-game purchases.",
                    needs_human=True,
                ),
                CategoryDef(name="other", description="anything else"),
            ),
            urgencies=(
                UrgencyDef(name="high", definition="servers down for everyone", label="P1"),
            ),
        ),
        product=Product(
            name="Starfall",
            description="an online space shooter for PC and consoles",
            tone="upbeat and brief",
            languages=("English", "Spanish"),
            rules=("Never promise a patch date", "Link the status page for outages."),
        ),
    )


def shipped(name: str) -> str:
    return resources.files("prompts").joinpath(f"{name}.md").read_bytes().decode("utf-8")


# --- the defaults say what the previous versions said -----------------------------


def test_default_triage_prompt_is_triage_v2_byte_for_byte() -> None:
    # An upgraded desk without a taxonomy of its own keeps its cached prefix.
    prompt = PromptBook().get("triage")
    assert prompt.version == "triage.v3"
    assert prompt.text.encode("utf-8") == shipped("triage.v2").encode("utf-8")


@pytest.mark.parametrize("name", ["answer", "summary"])
def test_default_answer_and_summary_prompts_read_as_v1(name: str) -> None:
    prompt = PromptBook().get(name)
    assert prompt.version == f"{name}.v2"
    assert prompt.text == shipped(f"{name}.v1")


# --- the triage prompt from a custom taxonomy ---------------------------------------


def test_custom_taxonomy_prompt_lists_its_categories_and_urgencies() -> None:
    playbook = game_studio()
    text = PromptBook().for_playbook("triage", playbook).text
    assert text.startswith(
        "You are the triage step of a customer support desk for Starfall, an online space "
        "shooter for PC and consoles. Your only job"
    )
    assert '- "category": string, one of "crash", "matchmaking", "purchases", "other".\n' in text
    assert "  crash = the game closes, freezes or will not start.\n" in text
    assert '    Example ticket: "The game closes when the map loads"\n' in text
    assert '    Example ticket: "Black screen after patch"\n' in text
    # A description's own full stop is not doubled.
    assert "  purchases = coins, skins, refunds for in-game purchases. Always handled" in text
    assert 'Always true for a ticket in the category "purchases".' in text
    assert '- "urgency": string, one of "low", "medium", "high".\n' in text
    assert '  high (shown as "P1") = servers down for everyone.\n' in text
    # Levels the desk did not define keep their default meaning.
    assert "  low = questions, suggestions and anything that can wait.\n" in text
    for old in ("billing", "feature_request", "account ="):
        assert old not in text
    assert not re.search(r"\n\n\n|[ \t]\n", text)  # no blank-line or trailing-space debris


def test_custom_prompt_example_is_a_verdict_of_that_taxonomy() -> None:
    playbook = game_studio()
    text = PromptBook().for_playbook("triage", playbook).text
    (line,) = [line for line in text.splitlines() if line.startswith("{")]
    example = json.loads(line)
    assert example["category"] == "crash"
    assert set(example) == {
        "category",
        "urgency",
        "summary",
        "needs_human",
        "confidence",
        "search_queries",
    }
    assert parse_triage(line, playbook.taxonomy).category == "crash"


def test_equal_playbooks_give_byte_identical_prompts_and_digests() -> None:
    first = PromptBook().for_playbook("triage", game_studio())
    second = PromptBook().for_playbook("triage", game_studio())
    assert first.text.encode("utf-8") == second.text.encode("utf-8")
    assert first.digest == second.digest
    assert first.digest == hashlib.sha256(first.text.encode("utf-8")).hexdigest()[:12]
    assert re.fullmatch(r"[0-9a-f]{12}", first.digest)


def test_a_changed_description_changes_the_digest() -> None:
    book = PromptBook()
    before = book.for_playbook("triage", game_studio())
    after = book.for_playbook("triage", game_studio(crash="the game crashes"))
    assert "  crash = the game crashes.\n" in after.text
    assert after.digest != before.digest
    assert after.version == before.version == "triage.v3"  # the digest tells them apart


def test_a_pinned_old_version_is_static_whatever_the_taxonomy() -> None:
    book = PromptBook({"triage": "v2"})
    prompt = book.for_playbook("triage", game_studio())
    assert (prompt.version, prompt.text) == ("triage.v2", shipped("triage.v2"))


def test_prompt_digests_name_every_prompt() -> None:
    book = PromptBook()
    custom, default = prompt_digests(book, game_studio()), prompt_digests(book, Playbook())
    assert list(custom) == list(PROMPT_NAMES)
    assert all(re.fullmatch(r"[0-9a-f]{12}", digest) for digest in custom.values())
    assert custom["correction"] == default["correction"]  # static: the same everywhere
    for name in ("triage", *ANSWER_PROMPTS, "summary"):
        assert custom[name] != default[name], name
    assert default["triage"] == book.get("triage").digest


# --- the product in the answer prompts ---------------------------------------------


@pytest.mark.parametrize("name", ANSWER_PROMPTS)
def test_answer_prompts_carry_the_product_and_its_rules(name: str) -> None:
    text = PromptBook().for_playbook(name, game_studio()).text
    assert "Starfall, an online space shooter for PC and consoles" in text
    assert "upbeat and brief" in text
    assert "- Never promise a patch date.\n- Link the status page for outages.\n" in text
    assert "concise and friendly" not in text


@pytest.mark.parametrize("name", ["answer", "grounded_answer", "reasoner_brief"])
def test_answer_prompts_name_the_desks_languages(name: str) -> None:
    book = PromptBook()
    text = book.for_playbook(name, game_studio()).text
    assert (
        "Answer in the language the user wrote in when it is English or Spanish; "
        "otherwise answer in English."
    ) in text
    one = Playbook(product=Product(languages=("German",)))
    assert "Answer in German, whatever language the user wrote in." in (
        book.for_playbook(name, one).text
    )
    assert "Answer in the language the user wrote in." in book.get(name).text


def test_summary_prompt_names_the_product() -> None:
    text = PromptBook().for_playbook("summary", game_studio()).text
    assert "support thread for Starfall, an online space shooter" in text


def test_a_product_without_rules_adds_no_rules_section() -> None:
    text = PromptBook().for_playbook("answer", Playbook(product=Product(name="Acme"))).text
    assert text.startswith("You are a support assistant for Acme, a software-as-a-service")
    assert "own rules" not in text
    assert text.endswith("secrets.\n")


def test_templates_fail_loudly_on_an_unknown_name() -> None:
    with pytest.raises(jinja2.UndefinedError):
        prompt_environment().from_string("for {{ prodcut.name }}").render(product=Product())
