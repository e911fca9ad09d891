"""parse_triage: forgiving on form, strict on meaning."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.events import Category, Urgency
from triage.schema import TriageInvalid, TriageResult, parse_triage

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
    assert parse_triage(with_(category="Feature Request")).category is Category.FEATURE_REQUEST
    assert parse_triage(with_(category="feature-request")).category is Category.FEATURE_REQUEST
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
