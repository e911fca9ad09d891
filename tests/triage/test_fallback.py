"""The offline rules: rough but deterministic, and always handed to a person."""

from __future__ import annotations

import pytest

from bot.events import Category, Urgency
from triage.fallback import classify_offline


@pytest.mark.parametrize(
    ("text", "category", "urgency"),
    [
        ("I was charged twice for my subscription!", Category.BILLING, Urgency.HIGH),
        ("Quick question: where do I find last month's invoice?", Category.BILLING, Urgency.LOW),
        (
            "Please refund the annual payment, I cancelled on day 2",
            Category.BILLING,
            Urgency.MEDIUM,
        ),
        ("The export crashes with error 500", Category.BUG, Urgency.MEDIUM),
        ("Production is down for all users!!", Category.BUG, Urgency.HIGH),
        ("Traceback (most recent call last): ... KeyError", Category.BUG, Urgency.MEDIUM),
        ("the upload button doesn't work", Category.BUG, Urgency.MEDIUM),
        ("I'm locked out after enabling 2FA", Category.ACCOUNT, Urgency.MEDIUM),
        ("Please delete my account", Category.ACCOUNT, Urgency.MEDIUM),
        ("SSO login fails, possible security breach", Category.ACCOUNT, Urgency.HIGH),
        (
            "Would be nice to have dark mode. Just a suggestion!",
            Category.FEATURE_REQUEST,
            Urgency.LOW,
        ),
        ("Could you add support for Teams?", Category.FEATURE_REQUEST, Urgency.MEDIUM),
        ("hello", Category.OTHER, Urgency.MEDIUM),
        ("Not urgent, but the report export is broken", Category.BUG, Urgency.LOW),
        ("no funciona el login", Category.ACCOUNT, Urgency.MEDIUM),
        ("", Category.OTHER, Urgency.MEDIUM),
    ],
)
def test_rules_table(text: str, category: Category, urgency: Urgency) -> None:
    result = classify_offline(text)
    assert (result.category, result.urgency) == (category, urgency)
    assert result.needs_human is True
    assert result.confidence <= 0.5


def test_summary_is_the_first_sentence_of_the_first_line() -> None:
    text = "\n\n  The export is broken.  It was fine yesterday.\nSecond line."
    assert classify_offline(text).summary == "The export is broken."


def test_blank_text_has_a_placeholder_summary() -> None:
    assert classify_offline(" \n ").summary == "(empty message)"


def test_long_summary_is_trimmed_to_280() -> None:
    summary = classify_offline("word " * 200).summary
    assert len(summary) == 280
    assert summary.endswith("…")


def test_deterministic() -> None:
    text = "Our invoice is wrong and the billing page crashes"
    assert classify_offline(text) == classify_offline(text)


@pytest.mark.parametrize(
    "text", ["I was charged twice for my subscription!", "The export crashes", "", "hello"]
)
def test_rules_give_no_search_queries(text: str) -> None:
    result = classify_offline(text)
    assert result.search_queries == ()
    assert result.model_dump(mode="json")["search_queries"] == []
