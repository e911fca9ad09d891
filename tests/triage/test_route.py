"""decide_route: the whole table, pure."""

from __future__ import annotations

import pytest

from bot.config.playbook import Playbook
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


# --- The playbook: categories that always need a person, the operator's routing rules ---

PLAYBOOK = Playbook.model_validate(
    {
        "taxonomy": {
            "categories": [
                {"name": "billing", "description": "money", "formerly": ["payments"]},
                {"name": "bug", "description": "broken"},
                {"name": "legal", "description": "lawyers", "needs_human": True},
                {"name": "other", "description": "anything else"},
            ]
        },
        "teams": [{"name": "money"}, {"name": "engineering"}, {"name": "counsel"}],
        "routes": [
            {
                "name": "billing high",
                "category": ["payments"],  # an old name matches today's category
                "urgency": ["high"],
                "route": "human",
                "team": "money",
            },
            {
                "category": ["bug"],
                "evidence": "stack_trace",
                "route": "reasoner",
                "team": "engineering",
            },
            {"text": r"\brefund", "team": "money"},
            {"category": ["legal"], "team": "counsel"},
            {"evidence": "code", "needs_human": False, "route": "answer"},
        ],
    }
)


def custom(
    category: str,
    urgency: str = "medium",
    *,
    needs_human: bool = False,
    confidence: float = 0.91,
) -> TriageResult:
    return TriageResult(
        category=category,
        urgency=urgency,
        summary="Something the user wants.",
        needs_human=needs_human,
        confidence=confidence,
    )


@pytest.mark.parametrize(
    ("result", "source", "text", "route", "team", "reason"),
    [
        (custom("billing", "high"), "llm", "charged", Route.HUMAN, "money", 'rule "billing high"'),
        (
            custom("billing", "high"),
            "llm",
            "x",
            Route.HUMAN,
            "money",
            "category billing, urgency high",
        ),
        (custom("billing", "low"), "llm", "where is it", Route.ANSWER, None, "confident"),
        (
            custom("bug"),
            "llm",
            TRACE,
            Route.REASONER,
            "engineering",
            "rule 2: category bug, with a stack trace",
        ),
        (custom("bug"), "llm", CODE, Route.ANSWER, None, "rule 5: with code, needs_human false"),
        (custom("bug"), "llm", "it is broken", Route.ANSWER, None, "confident"),
        (
            custom("other"),
            "llm",
            "I want a REFUND",
            Route.ANSWER,
            "money",
            'rule 3: text matches "\\brefund"',
        ),
        (
            custom("other", needs_human=True),
            "llm",
            "Refund!",
            Route.HUMAN,
            "money",
            "person is needed",
        ),
        (
            custom("legal"),
            "llm",
            "a letter",
            Route.HUMAN,
            "counsel",
            "category legal always goes to a person",
        ),
        (
            custom("legal", needs_human=False),
            "llm",
            CODE,
            Route.HUMAN,
            "counsel",
            "always goes to a person",
        ),
        (custom("billing", "high"), "fallback", "x", Route.HUMAN, "money", 'rule "billing high"'),
        (custom("bug"), "fallback", TRACE, Route.HUMAN, "engineering", "fallback verdict"),
        (
            custom("other"),
            "fallback",
            CODE,
            Route.HUMAN,
            None,
            "fallback verdict: a person must check it (rule 5",
        ),
        (custom("other"), "fallback", "refund me", Route.HUMAN, "money", "fallback"),
        (custom("removed_category"), "llm", "refund", Route.ANSWER, "money", "rule 3"),
    ],
)
def test_routing_rules_table(
    result: TriageResult, source: str, text: str, route: Route, team: str | None, reason: str
) -> None:
    decision = decide_route(result, source=source, text=text, playbook=PLAYBOOK)
    assert (decision.route, decision.team) == (route, team)
    assert reason in decision.reason


def test_the_first_matching_rule_wins_and_a_rule_may_set_only_a_team() -> None:
    first = Playbook.model_validate(
        {
            "teams": [{"name": "one"}, {"name": "two"}],
            "routes": [
                {"text": "invoice", "team": "one"},
                {"text": "invoice", "route": "human", "team": "two"},
            ],
        }
    )
    decision = decide_route(custom("billing"), source="llm", text="My INVOICE", playbook=first)
    # The first rule sets no route: the built-in logic decides, its team applies.
    assert (decision.route, decision.team) == (Route.ANSWER, "one")
    assert decision.reason.endswith('(rule 1: text matches "invoice")')


def test_without_rules_nothing_changes_and_no_team_is_set() -> None:
    plain = decide_route(verdict(Category.BUG), source="llm", text=TRACE)
    assert (plain.route, plain.team, plain.reason) == (
        Route.REASONER,
        None,
        "bug report with a stack trace",
    )
