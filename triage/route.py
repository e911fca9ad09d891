"""Where a classified ticket goes next: a quick answer, the deep model, or a person.

A pure decision with a recorded reason, so leads can see why the bot did what it
did and tests can check the whole table without any I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.events import Category
from triage.classify import Classification
from triage.schema import TriageResult

__all__ = ["Route", "RouteDecision", "decide_route", "route_of"]


class Route(StrEnum):
    """The three ways a ticket can go."""

    ANSWER = "answer"
    REASONER = "reasoner"
    HUMAN = "human"


@dataclass(frozen=True)
class RouteDecision:
    """The route and a short, human-readable reason for it."""

    route: Route
    reason: str


# Requests that a quick chat answer would do badly: the user wants analysis.
_DEEP_ANALYSIS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE))
    for label, pattern in (
        ("root cause", r"\broot[- ]?cause"),
        ("analysis", r"\banaly[sz](e|is|ing)\b"),
        ("trade-offs", r"\btrade[- ]?offs?\b"),
        ("comparison", r"\bcompare\b"),
        ("edge cases", r"\bedge[- ]cases?\b"),
        ("proof", r"\bprove\b"),
        ("step by step", r"\bstep[- ]by[- ]step\b"),
        ("why it happens", r"\bwhy (does|do|did|is|are)\b.{0,80}\b(happen|happening|occur)"),
    )
)
# MULTILINE so frame patterns can anchor at the start of any line.
_STACK_TRACE = tuple(
    re.compile(pattern, re.MULTILINE)
    for pattern in (
        r"Traceback \(most recent call last\)",
        r"^\s*at [\w$.<>]+\(",  # Java / JavaScript frames
        r"Exception in thread ",
        r'File "[^"]+", line \d+',
    )
)
_CODE_FENCE = re.compile(r"```")
_CODE_LINE = re.compile(
    r"""^\s*(
        (def|class|import|from\s+\S+\s+import|return|const|let|var|function|public|private|
         \#include|package|SELECT|INSERT|UPDATE)\b
      | .*[;{}][ \t]*$
      | .*\)\s*(=>|->|:)[ \t]*$
      | \w[\w.\[\]]*\s*=\s*\S.*\(.*\)[ \t]*$
    )""",
    re.VERBOSE | re.MULTILINE,
)
_MIN_CODE_LINES = 3


def _deep_analysis(text: str) -> str | None:
    for label, pattern in _DEEP_ANALYSIS:
        if pattern.search(text):
            return label
    return None


def _technical_evidence(text: str) -> str | None:
    if any(pattern.search(text) for pattern in _STACK_TRACE):
        return "a stack trace"
    if _CODE_FENCE.search(text) or len(_CODE_LINE.findall(text)) >= _MIN_CODE_LINES:
        return "code"
    return None


def decide_route(
    result: TriageResult,
    *,
    source: str,
    text: str,
    confidence_threshold: float = 0.6,
) -> RouteDecision:
    """Decide where a classified ticket goes.

    Order: a person when the verdict asks for one or came from the rules; then the
    deep model when the verdict is unsure, the user asks for analysis, or a bug
    report carries a stack trace or code; otherwise a quick answer.

    Args:
        result: the triage verdict.
        source: "llm" or "fallback" (where the verdict came from).
        text: the ticket text, scanned for analysis requests, traces and code.
        confidence_threshold: verdicts below this go to the deep model.

    Returns:
        The route and its reason.
    """
    if source == "fallback":
        return RouteDecision(Route.HUMAN, "rule-based fallback verdict: a person must check it")
    if result.needs_human:
        return RouteDecision(Route.HUMAN, "triage says a person is needed")
    if result.confidence < confidence_threshold:
        return RouteDecision(
            Route.REASONER,
            f"confidence {result.confidence:.2f} below {confidence_threshold:g}",
        )
    asked = _deep_analysis(text)
    if asked:
        return RouteDecision(Route.REASONER, f"deep analysis asked: {asked}")
    if result.category == Category.BUG:
        evidence = _technical_evidence(text)
        if evidence:
            return RouteDecision(Route.REASONER, f"bug report with {evidence}")
    return RouteDecision(
        Route.ANSWER, f"confident ({result.confidence:.2f}), no deep analysis asked"
    )


def route_of(found: Classification, text: str, confidence_threshold: float) -> RouteDecision:
    """`decide_route` for a classifier's outcome (its verdict and where it came from)."""
    return decide_route(
        found.result, source=found.source, text=text, confidence_threshold=confidence_threshold
    )
