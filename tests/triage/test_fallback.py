"""The offline rules: rough but deterministic, always handed to a person, and in the
operator's taxonomy."""

from __future__ import annotations

import pytest

from bot.config.taxonomy import CategoryDef, Taxonomy, UrgencyDef
from triage.fallback import FALLBACK_CONFIDENCE, classify_offline


@pytest.mark.parametrize(
    ("text", "category", "urgency"),
    [
        ("I was charged twice for my subscription!", "billing", "high"),
        ("Quick question: where do I find last month's invoice?", "billing", "low"),
        ("Please refund the annual payment, I cancelled on day 2", "billing", "medium"),
        ("The export crashes with error 500", "bug", "medium"),
        ("Production is down for all users!!", "bug", "high"),
        ("Traceback (most recent call last): ... KeyError", "bug", "medium"),
        ("the upload button doesn't work", "bug", "medium"),
        ("I'm locked out after enabling 2FA", "account", "medium"),
        ("Please delete my account", "account", "medium"),
        ("SSO login fails, possible security breach", "account", "high"),
        ("Would be nice to have dark mode. Just a suggestion!", "feature_request", "low"),
        # A question that asks for something new can wait.
        ("Could you add support for Teams?", "feature_request", "low"),
        ("hello", "other", "low"),
        ("Not urgent, but the report export is broken", "bug", "low"),
        ("no funciona el login", "account", "medium"),
        ("", "other", "low"),
    ],
)
def test_rules_table(text: str, category: str, urgency: str) -> None:
    result = classify_offline(text)
    assert (result.category, result.urgency) == (category, urgency)
    assert result.needs_human is True
    assert result.confidence == FALLBACK_CONFIDENCE


@pytest.mark.parametrize(
    "text",
    [
        "the whole site went down ten minutes ago",
        "Since the release nobody in our office can open a project",
        "After the sync every task from last week is gone",
        "I think my account was hacked, there are logins from a device I don't know",
        "Our lawyer will contact you about this contract",
        "You took 300 euros from our account without any invoice",
        "Wir wurden doppelt belastet, die Abbuchung kam doppelt",
    ],
)
def test_incident_cues_make_a_ticket_urgent(text: str) -> None:
    assert classify_offline(text).urgency == "high"


@pytest.mark.parametrize(
    "text",
    [
        "No rush, but the calendar export is broken for everyone",
        "Not urgent: the settings page is down for maintenance?",
    ],
)
def test_a_calming_phrase_cancels_urgency(text: str) -> None:
    assert classify_offline(text).urgency == "low"


def test_many_people_in_a_question_is_not_an_incident() -> None:
    assert classify_offline("How do I invite everyone on my team to a project?").urgency == "low"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Mi contraseña no funciona", "account"),
        ("Die Rechnung für März fehlt", "billing"),
        ("L'application plante, ça ne marche pas", "bug"),
        ("Seria ótimo ter um modo escuro", "feature_request"),
    ],
)
def test_other_languages(text: str, category: str) -> None:
    assert classify_offline(text).category == category


def test_spam_that_borrows_product_words_is_other() -> None:
    assert classify_offline("Best prices!!! click here for cheap invoices").category == "other"


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


# A game studio's desk: none of the default names but "bug" and "other".
GAME = Taxonomy(
    categories=(
        CategoryDef(name="bug", description="the game misbehaves"),
        CategoryDef(
            name="matchmaking",
            description="finding a match, lobbies, queues",
            keywords=("lobby", "queue times", "Matchmaking"),
        ),
        CategoryDef(
            name="purchases",
            description="gems, skins and the shop",
            keywords=("gems", "battle pass"),
            examples=("I bought a skin in the store and it never showed up in my locker",),
        ),
        CategoryDef(name="other", description="anything else"),
    ),
)


def test_a_keyword_picks_a_custom_category() -> None:
    result = classify_offline("Where are my GEMS? I paid for them yesterday", GAME)
    assert result.category == "purchases"
    assert result.needs_human is True
    assert result.confidence == FALLBACK_CONFIDENCE


def test_a_keyword_outweighs_a_built_in_pattern() -> None:
    # "broken" is a bug word, but the operator said "lobby" is matchmaking.
    assert classify_offline("the lobby is broken", GAME).category == "matchmaking"
    assert classify_offline("the menu is broken", GAME).category == "bug"


def test_keywords_match_whole_words_in_any_case_and_across_spaces() -> None:
    assert classify_offline("QUEUE   TIMES are awful tonight", GAME).category == "matchmaking"
    assert classify_offline("my lobbyist friend says hi", GAME).category != "matchmaking"


def test_examples_count_through_shared_words() -> None:
    assert classify_offline("new skin never showed up in the locker", GAME).category == "purchases"


def test_shared_stop_words_alone_do_not_count() -> None:
    assert classify_offline("it is in the my and", GAME).category == "other"


def test_nothing_matching_gives_the_fallback_category() -> None:
    desk = Taxonomy(
        categories=(
            CategoryDef(name="orders", description="orders", keywords=("order",)),
            CategoryDef(name="returns", description="returns", keywords=("return",)),
            CategoryDef(name="triage_queue", description="the rest"),
        ),
        fallback="triage_queue",
    )
    assert classify_offline("good morning", desk).category == "triage_queue"
    assert classify_offline("where is my order?", desk).category == "orders"


def test_built_in_patterns_only_apply_to_categories_the_taxonomy_has() -> None:
    shop = Taxonomy(categories=(CategoryDef(name="orders", description="orders"),))
    # A billing phrase, but this desk has no billing: its fallback, the last listed.
    assert classify_offline("I was charged twice", shop).category == "orders"


def test_a_renamed_category_keeps_the_built_in_patterns() -> None:
    renamed = Taxonomy(
        categories=(
            CategoryDef(name="payments", description="money", formerly=("billing",)),
            CategoryDef(name="other", description="the rest"),
        )
    )
    assert classify_offline("Please refund my last invoice", renamed).category == "payments"


def test_the_category_is_always_one_of_the_taxonomy() -> None:
    texts = ["I was charged twice", "the app crashes", "I forgot my password", "add dark mode"]
    for text in texts:
        assert classify_offline(text, GAME).category in GAME.names


def test_operator_urgency_cues_add_to_the_built_in_ones() -> None:
    cued = Taxonomy(
        urgencies=(
            UrgencyDef(name="high", definition="a tournament is affected", cues=("tournament",)),
            UrgencyDef(name="low", definition="can wait", cues=("cosmetics",)),
            UrgencyDef(name="medium", definition="one player blocked", cues=("cannot queue",)),
        )
    )
    text = "the tournament bracket page shows the wrong team names"
    assert classify_offline(text).urgency == "medium"
    assert classify_offline(text, cued).urgency == "high"
    assert classify_offline("cosmetics look off on my character", cued).urgency == "low"
    assert classify_offline("How do I fix it? I cannot queue", cued).urgency == "medium"
    # The built-in cues still count.
    assert classify_offline("the servers are down for everyone", cued).urgency == "high"
