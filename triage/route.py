"""Where a classified ticket goes next: a quick answer, the deep model, or a person.

A pure decision with a recorded reason, so leads can see why the bot did what it
did and tests can check the whole table without any I/O. The workspace's playbook
comes first: a category that always needs a person, then the operator's routing
rules in order (the first that matches decides its route and team), then the
built-in logic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache

from bot.config.playbook import DEFAULT_PLAYBOOK, Playbook
from bot.config.routing import RoutingRule
from bot.config.taxonomy import Taxonomy, normal_name
from triage.classify import Classification
from triage.schema import TriageResult

__all__ = ["Route", "RouteDecision", "decide_route", "route_of"]

FALLBACK_REASON = "rule-based fallback verdict: a person must check it"


class Route(StrEnum):
    """The three ways a ticket can go."""

    ANSWER = "answer"
    REASONER = "reasoner"
    HUMAN = "human"


@dataclass(frozen=True)
class RouteDecision:
    """The route, a short, human-readable reason for it, and the team it goes to."""

    route: Route
    reason: str
    team: str | None = None
    """The team whose leads get the ticket (a routing rule's); None: the workspace's."""


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
_EVIDENCE_WORDS = {"stack_trace": "a stack trace", "code": "code"}


def _deep_analysis(text: str) -> str | None:
    for label, pattern in _DEEP_ANALYSIS:
        if pattern.search(text):
            return label
    return None


def _has_stack_trace(text: str) -> bool:
    return any(pattern.search(text) for pattern in _STACK_TRACE)


def _has_code(text: str) -> bool:
    return bool(_CODE_FENCE.search(text)) or len(_CODE_LINE.findall(text)) >= _MIN_CODE_LINES


def _technical_evidence(text: str) -> str | None:
    if _has_stack_trace(text):
        return "a stack trace"
    if _has_code(text):
        return "code"
    return None


@lru_cache(maxsize=256)
def _pattern(text: str) -> re.Pattern[str]:
    # Validated when the playbook was loaded; compiled once per pattern here.
    return re.compile(text, re.IGNORECASE)


def _matched(rule: RoutingRule, result: TriageResult, text: str, taxonomy: Taxonomy) -> str | None:
    """What made `rule` match, in words ("category billing, urgency high"), or None."""
    found: list[str] = []
    if rule.category:
        category = taxonomy.canonical(result.category) or normal_name(result.category)
        wanted = {taxonomy.canonical(name) or normal_name(name) for name in rule.category}
        if category not in wanted:
            return None
        found.append(f"category {category}")
    if rule.urgency:
        urgency = normal_name(result.urgency)
        if urgency not in rule.urgency:
            return None
        found.append(f"urgency {urgency}")
    if rule.text is not None:
        match = _pattern(rule.text).search(text)
        if match is None:
            return None
        found.append(f'text matches "{rule.text}"')
    if rule.evidence is not None:
        check = _has_stack_trace if rule.evidence == "stack_trace" else _has_code
        if not check(text):
            return None
        found.append(f"with {_EVIDENCE_WORDS[rule.evidence]}")
    if rule.needs_human is not None:
        if result.needs_human is not rule.needs_human:
            return None
        found.append(f"needs_human {str(rule.needs_human).lower()}")
    return ", ".join(found) or "every ticket"


def _first_rule(
    playbook: Playbook, result: TriageResult, text: str
) -> tuple[RoutingRule, str] | None:
    """The first of the operator's rules that matches, and its reason, or None."""
    for number, rule in enumerate(playbook.routes, start=1):
        what = _matched(rule, result, text, playbook.taxonomy)
        if what is not None:
            name = f'rule "{rule.name}"' if rule.name else f"rule {number}"
            return rule, f"{name}: {what}"
    return None


def _built_in(result: TriageResult, *, text: str, confidence_threshold: float) -> RouteDecision:
    """supportbot's own logic, for a model's verdict no rule decided."""
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
    if normal_name(result.category) == "bug":
        evidence = _technical_evidence(text)
        if evidence:
            return RouteDecision(Route.REASONER, f"bug report with {evidence}")
    return RouteDecision(
        Route.ANSWER, f"confident ({result.confidence:.2f}), no deep analysis asked"
    )


def decide_route(
    result: TriageResult,
    *,
    source: str,
    text: str,
    confidence_threshold: float = 0.6,
    playbook: Playbook = DEFAULT_PLAYBOOK,
) -> RouteDecision:
    """Decide where a classified ticket goes, and to which team.

    Order: a person when the verdict's category always needs one; then the first of
    the playbook's routing rules that matches (its route, when it sets one, and its
    team); then a person when the verdict asks for one or came from the rules; the
    deep model when the verdict is unsure, the user asks for analysis, or a bug report
    carries a stack trace or code; otherwise a quick answer. A rules-based verdict
    always goes to a person, whatever a routing rule says, but the rule's team applies.

    Args:
        result: the triage verdict.
        source: "llm" or "fallback" (where the verdict came from).
        text: the ticket text, scanned for analysis requests, traces and code.
        confidence_threshold: verdicts below this go to the deep model.
        playbook: the ticket's workspace's playbook (taxonomy and routing rules).

    Returns:
        The route, its reason and the team (None: the workspace's leads).
    """
    ruled = _first_rule(playbook, result, text)
    team = ruled[0].team if ruled else None
    category = playbook.taxonomy.category(result.category)
    if category is not None and category.needs_human:
        reason = f"category {category.name} always goes to a person"
        return RouteDecision(Route.HUMAN, reason, team)
    if ruled is not None and ruled[0].route is not None:
        rule, reason = ruled
        if source == "fallback" and rule.route != Route.HUMAN:
            return RouteDecision(Route.HUMAN, f"{FALLBACK_REASON} ({reason})", team)
        return RouteDecision(Route(rule.route), reason, team)
    if source == "fallback":
        decision = RouteDecision(Route.HUMAN, FALLBACK_REASON)
    else:
        decision = _built_in(result, text=text, confidence_threshold=confidence_threshold)
    if ruled is None:
        return decision
    return replace(decision, reason=f"{decision.reason} ({ruled[1]})", team=team)


def route_of(
    found: Classification,
    text: str,
    confidence_threshold: float,
    playbook: Playbook = DEFAULT_PLAYBOOK,
) -> RouteDecision:
    """`decide_route` for a classifier's outcome (its verdict and where it came from)."""
    return decide_route(
        found.result,
        source=found.source,
        text=text,
        confidence_threshold=confidence_threshold,
        playbook=playbook,
    )
