"""decide_route: the whole table, pure."""

from __future__ import annotations

import pytest

from bot.events import Category, Urgency
from triage.route import Route, decide_route
from triage.schema import TriageResult

TRACE = (
    "Export fails:\nTraceback (most recent call last):\n"
    '  File "app.py", line 12, in <module>\n    main()\nValueError: bad'
)
JAVA = 'Exception in thread "main" java.lang.NullPointerException\n    at com.foo.Bar(Bar.java:3)'
CODE = "My script:\nconst r = await fetch(url);\nif (!r.ok) {\n  throw new Error(r.status);\n}"
FENCED = "Calling the API like this:\n```\ncurl -X POST /v1/tasks\n```\ngives 500"


def verdict(
    category: Category = Category.BILLING,
    *,
    confidence: float = 0.91,
    needs_human: bool = False,
) -> TriageResult:
    return TriageResult(
        category=category,
        urgency=Urgency.MEDIUM,
        summary="Something the user wants.",
        needs_human=needs_human,
        confidence=confidence,
    )


@pytest.mark.parametrize(
    ("result", "source", "text", "route", "reason"),
    [
        (verdict(needs_human=True), "llm", "refund now", Route.HUMAN, "person is needed"),
        (verdict(), "fallback", "invoice", Route.HUMAN, "fallback"),
        (verdict(confidence=0.1, needs_human=True), "llm", "x", Route.HUMAN, "person"),
        (verdict(confidence=0.42), "llm", "invoice?", Route.REASONER, "confidence 0.42 below 0.6"),
        (verdict(), "llm", "What is the root cause of this?", Route.REASONER, "root cause"),
        (verdict(), "llm", "Please analyse the failed payments", Route.REASONER, "analysis"),
        (verdict(), "llm", "Compare the trade-offs of plans", Route.REASONER, "trade-offs"),
        (verdict(), "llm", "what are the edge cases here", Route.REASONER, "edge cases"),
        (verdict(), "llm", "explain step by step", Route.REASONER, "step by step"),
        (verdict(), "llm", "Why does this keep happening?", Route.REASONER, "why it happens"),
        (verdict(Category.BUG), "llm", TRACE, Route.REASONER, "stack trace"),
        (verdict(Category.BUG), "llm", JAVA, Route.REASONER, "stack trace"),
        (verdict(Category.BUG), "llm", CODE, Route.REASONER, "code"),
        (verdict(Category.BUG), "llm", FENCED, Route.REASONER, "code"),
        (verdict(Category.BILLING), "llm", TRACE, Route.ANSWER, "confident (0.91)"),
        (verdict(Category.BUG), "llm", "The export button is broken", Route.ANSWER, "confident"),
        (verdict(), "llm", "Where is my invoice?", Route.ANSWER, "no deep analysis asked"),
        (verdict(confidence=0.6), "llm", "invoice", Route.ANSWER, "confident (0.60)"),
    ],
)
def test_route_table(
    result: TriageResult, source: str, text: str, route: Route, reason: str
) -> None:
    decision = decide_route(result, source=source, text=text)
    assert decision.route is route
    assert reason in decision.reason


def test_threshold_is_a_parameter() -> None:
    decision = decide_route(
        verdict(confidence=0.7), source="llm", text="x", confidence_threshold=0.8
    )
    assert decision.route is Route.REASONER
    assert decision.reason == "confidence 0.70 below 0.8"


def test_prose_with_parentheses_is_not_code() -> None:
    text = "Hello (again).\nI tried twice (really).\nStill broken, thanks (!)"
    assert decide_route(verdict(Category.BUG), source="llm", text=text).route is Route.ANSWER
