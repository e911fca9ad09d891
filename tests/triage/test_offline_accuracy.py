"""The offline rules on the labelled tickets: the accuracy the issue asks for must hold.

`tune.jsonl` is what the rules were tuned on; `holdout.jsonl` was written at the same
time and only measured at the end, so it is the fairer figure. Both are guarded here:
a change to the rules that loses accuracy on either fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.evaluate import load_labelled
from triage.fallback import classify_offline

LABELLED = Path(__file__).parents[2] / "examples" / "labelled"
CATEGORY_AT_LEAST = 0.75
URGENCY_AT_LEAST = 0.65


def _accuracy(name: str) -> tuple[float, float]:
    cases = load_labelled(LABELLED / name)
    results = [(case, classify_offline(case.text)) for case in cases]
    category = sum(result.category == case.category for case, result in results)
    urgency = sum(result.urgency == case.urgency for case, result in results)
    return category / len(cases), urgency / len(cases)


@pytest.mark.parametrize("name", ["tune.jsonl", "holdout.jsonl"])
def test_offline_rules_meet_the_accuracy(name: str) -> None:
    category, urgency = _accuracy(name)
    assert category >= CATEGORY_AT_LEAST, f"category accuracy {category:.1%} on {name}"
    assert urgency >= URGENCY_AT_LEAST, f"urgency accuracy {urgency:.1%} on {name}"


@pytest.mark.parametrize(("name", "at_least"), [("tune.jsonl", 150), ("holdout.jsonl", 100)])
def test_the_labelled_sets_are_big_enough_to_mean_something(name: str, at_least: int) -> None:
    cases = load_labelled(LABELLED / name)
    assert len(cases) >= at_least
    # Every category and urgency of the default taxonomy is represented.
    assert {str(case.category) for case in cases} == {
        "billing",
        "bug",
        "feature_request",
        "account",
        "other",
    }
    assert {str(case.urgency) for case in cases} == {"high", "medium", "low"}
