"""parse_triage: forgiving on form, strict on meaning."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.config.taxonomy import CategoryDef, Taxonomy
from bot.events import Category, Urgency
from triage.schema import (
    SEARCH_QUERY_MAX_CHARS,
    TriageInvalid,
    TriageResult,
    normalise_search_queries,
    parse_triage,
)

GOOD: dict[str, Any] = {
    "category": "bug",
    "urgency": "high",
    "summary": "Export fails with error 500 for every project.",
    "needs_human": False,
    "confidence": 0.9,
}
EXPECTED = TriageResult(
    category=Category.BUG,
    urgency=Urgency.HIGH,
    summary="Export fails with error 500 for every project.",
    needs_human=False,
    confidence=0.9,
)


def with_(**changes: Any) -> str:
    return json.dumps({**GOOD, **changes})


def without(field: str) -> str:
    return json.dumps({k: v for k, v in GOOD.items() if k != field})


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(json.dumps(GOOD), id="plain"),
        pytest.param(f"```json\n{json.dumps(GOOD)}\n```", id="fenced-json"),
        pytest.param(f"```\n{json.dumps(GOOD, indent=2)}\n```", id="fenced-bare"),
        pytest.param(f"Here is the result:\n{json.dumps(GOOD)}\nHope it helps {{", id="prose"),
        pytest.param(with_(category="BUG", urgency=" HIGH "), id="enum-caps"),
        pytest.param(with_(needs_human="false"), id="bool-string"),
        pytest.param(with_(needs_human="No"), id="bool-no"),
        pytest.param(with_(confidence="0.9"), id="numeric-string"),
        pytest.param(with_(extra="dropped", reasoning="x"), id="extra-keys"),
        pytest.param(
            with_(summary="  Export fails with error 500\n  for every   project. "),
            id="summary-whitespace",
        ),
    ],
)
def test_messy_but_meaningful_output_is_normalised(content: str) -> None:
    assert parse_triage(content) == EXPECTED


def test_enum_spellings() -> None:
    assert parse_triage(with_(category="Feature Request")).category == Category.FEATURE_REQUEST
    assert parse_triage(with_(category="feature-request")).category == "feature_request"
    assert parse_triage(with_(needs_human="YES")).needs_human is True


def test_raw_newline_inside_the_summary_string() -> None:
    content = '{"category": "bug", "urgency": "high", "summary": "Export fails\nagain",'
    content += ' "needs_human": false, "confidence": 1}'
    assert parse_triage(content).summary == "Export fails again"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        pytest.param(without("urgency"), 'missing field "urgency"', id="missing-field"),
        pytest.param(with_(category="refund"), "\"category\": 'refund' is not one of", id="cat"),
        pytest.param(with_(urgency="critical"), "\"urgency\": 'critical' is not one", id="urg"),
        pytest.param(with_(needs_human=3), '"needs_human": must be true or false', id="bool"),
        pytest.param(with_(confidence="high"), '"confidence": must be a number', id="conf-str"),
        pytest.param(with_(confidence=1.5), '"confidence": must be from 0 to 1', id="conf-big"),
        pytest.param(with_(confidence=-0.1), '"confidence": must be from 0 to 1', id="conf-neg"),
        pytest.param(with_(confidence=True), '"confidence": must be a number', id="conf-bool"),
        pytest.param(with_(summary=42), '"summary": must be a string', id="summary-int"),
        pytest.param(with_(summary=" \n "), '"summary": must not be empty', id="summary-empty"),
        pytest.param(with_(summary="x" * 281), '"summary": is 281 characters', id="too-long"),
        pytest.param(with_(category=None), '"category": must be a string', id="null"),
        pytest.param("", "the reply was empty", id="blank"),
        pytest.param("   \n\t ", "the reply was empty", id="spaces-only"),
        pytest.param("I cannot classify this ticket.", "not JSON", id="not-json"),
        pytest.param(f"[{json.dumps(GOOD)}]", "got an array", id="array"),
        pytest.param("0.9", "got a number", id="number"),
    ],
)
def test_wrong_meaning_is_rejected_naming_the_field(content: str, fragment: str) -> None:
    with pytest.raises(TriageInvalid) as caught:
        parse_triage(content)
    assert fragment in str(caught.value)


def test_none_is_invalid() -> None:
    with pytest.raises(TriageInvalid, match="empty"):
        parse_triage(None)


def test_every_problem_is_listed() -> None:
    with pytest.raises(TriageInvalid) as caught:
        parse_triage('{"category": "bug"}')
    message = str(caught.value)
    for field in ("urgency", "summary", "needs_human", "confidence"):
        assert f'missing field "{field}"' in message


def test_summary_of_exactly_280_characters_is_fine() -> None:
    assert len(parse_triage(with_(summary="y" * 280)).summary) == 280


def test_result_is_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        EXPECTED.urgency = Urgency.LOW  # type: ignore[misc]


# --- search_queries: optional, normalised, never a reason to fail ----------------

QUERIES = ["duplicate charge refund", "billing invoice charged twice"]


def test_search_queries_are_parsed_when_present() -> None:
    result = parse_triage(with_(search_queries=QUERIES))
    assert result.search_queries == ("duplicate charge refund", "billing invoice charged twice")
    assert result.model_copy(update={"search_queries": ()}) == EXPECTED


def test_missing_search_queries_are_empty() -> None:
    assert parse_triage(json.dumps(GOOD)).search_queries == ()
    assert EXPECTED.search_queries == ()


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("duplicate charge refund", id="a-string"),
        pytest.param(None, id="null"),
        pytest.param(3, id="number"),
        pytest.param(True, id="boolean"),
        pytest.param({"query": "duplicate charge refund"}, id="object"),
        pytest.param([], id="empty-list"),
        pytest.param(["", "  \n\t "], id="blank-strings"),
    ],
)
def test_malformed_search_queries_are_empty_and_the_verdict_stands(value: Any) -> None:
    result = parse_triage(with_(search_queries=value))
    assert result.search_queries == ()
    assert result == EXPECTED


def test_non_string_queries_are_dropped() -> None:
    value = [1, None, "refund policy", ["nested"], {"q": "x"}, False, 2.5, "export csv"]
    assert parse_triage(with_(search_queries=value)).search_queries == (
        "refund policy",
        "export csv",
    )


def test_queries_are_trimmed_and_collapsed_to_one_line() -> None:
    value = ["  duplicate\n  charge\trefund  ", "\u00a0two   factor reset "]
    assert normalise_search_queries(value) == ("duplicate charge refund", "two factor reset")


def test_at_most_three_queries_are_kept_in_order() -> None:
    value = ["one query", "two query", "three query", "four query", "five query"]
    assert normalise_search_queries(value) == ("one query", "two query", "three query")


def test_duplicates_are_dropped_ignoring_case_before_counting() -> None:
    value = [
        "Refund Policy",
        "refund policy",
        " REFUND  policy ",
        "invoice copy",
        "vat number",
        "x y",
    ]
    assert normalise_search_queries(value) == ("Refund Policy", "invoice copy", "vat number")


def test_a_long_query_is_cut_at_a_word_boundary() -> None:
    words = "invoice " * 20  # 160 characters of whole words
    (query,) = normalise_search_queries([words])
    assert len(query) <= SEARCH_QUERY_MAX_CHARS
    assert query == " ".join(["invoice"] * 10)  # 79 characters; an 11th would not fit
    assert query.split() == ["invoice"] * 10


def test_query_lengths_at_the_limit() -> None:
    exact = "a" * 39 + " " + "b" * 40  # exactly 80
    assert normalise_search_queries([exact]) == (exact,)
    # The 81st character is a space: the first 80 are whole words.
    assert normalise_search_queries([exact + " c"]) == (exact,)
    assert normalise_search_queries(["x" * 200]) == ("x" * SEARCH_QUERY_MAX_CHARS,)


def test_queries_that_become_equal_once_cut_are_duplicates() -> None:
    stem = "billing " * 10  # 80 characters with the trailing space
    assert normalise_search_queries([stem + "refund", stem + "invoice"]) == (stem.strip(),)


def test_bad_queries_never_appear_in_the_correction_message() -> None:
    with pytest.raises(TriageInvalid) as caught:
        parse_triage(json.dumps({**GOOD, "summary": "", "search_queries": 42}))
    assert str(caught.value) == '"summary": must not be empty'


def test_stored_form_round_trips() -> None:
    result = parse_triage(with_(search_queries=QUERIES))
    stored = result.model_dump(mode="json")
    assert stored["search_queries"] == QUERIES
    assert TriageResult.model_validate(stored) == result


# --- the verdict checked against the workspace's taxonomy -------------------------

GAME = Taxonomy(
    categories=(
        CategoryDef(name="crash", description="the game crashes", formerly=("bug",)),
        CategoryDef(name="matchmaking", description="finding a match"),
        CategoryDef(name="purchases", description="coins and skins"),
        CategoryDef(name="lost_progress", description="saves, levels or items gone"),
        CategoryDef(name="other", description="anything else"),
    )
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("matchmaking", "matchmaking"),
        ("PURCHASES", "purchases"),
        (" Lost Progress ", "lost_progress"),
        ("lost-progress", "lost_progress"),
    ],
)
def test_a_custom_category_is_accepted_in_any_spelling(given: str, expected: str) -> None:
    result = parse_triage(with_(category=given), GAME)
    assert result.category == expected
    assert type(result.category) is str


def test_an_old_name_reads_as_todays() -> None:
    assert parse_triage(with_(category="Bug"), GAME).category == "crash"


def test_a_category_outside_the_taxonomy_names_the_allowed_ones() -> None:
    with pytest.raises(TriageInvalid) as caught:
        parse_triage(with_(category="billing"), GAME)
    assert str(caught.value) == (
        "\"category\": 'billing' is not one of "
        '"crash", "matchmaking", "purchases", "lost_progress", "other"'
    )


def test_the_default_taxonomy_rejects_a_custom_category() -> None:
    with pytest.raises(TriageInvalid, match='"billing", "bug", "feature_request"'):
        parse_triage(with_(category="crash"))


def test_urgency_is_one_of_three_levels_in_any_case() -> None:
    assert parse_triage(with_(urgency=" Medium "), GAME).urgency == "medium"
    with pytest.raises(TriageInvalid, match='"urgency": \'p1\' is not one of "low"'):
        parse_triage(with_(urgency="p1"), GAME)


def test_a_stored_verdict_reads_back_without_a_taxonomy() -> None:
    # triage_runs keep verdicts of taxonomies since changed: reading them never fails.
    stored = parse_triage(with_(category="crash"), GAME).model_dump(mode="json")
    assert TriageResult.model_validate(stored).category == "crash"
    assert TriageResult(**{**stored, "category": "Site Problem"}).category == "site_problem"


def test_enum_members_still_build_a_result() -> None:
    assert EXPECTED.category == "bug"
    assert type(EXPECTED.category) is str
    assert EXPECTED.urgency == Urgency.HIGH
