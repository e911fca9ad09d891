"""Ticket triage: prompts, the strict JSON verdict, the classifier, its fallback and routing.

Platform-free by design: nothing here imports a chat platform SDK.
"""

from triage.classify import Classification, Classifier
from triage.evaluate import (
    EvalRecord,
    EvalReport,
    LabelledCase,
    load_labelled,
    run_eval,
    summarize,
)
from triage.fallback import classify_offline
from triage.prompts import Prompt, PromptBook, ticket_payload, triage_messages
from triage.route import Route, RouteDecision, decide_route
from triage.schema import Category, TriageInvalid, TriageResult, Urgency, parse_triage

__all__ = [
    "Category",
    "Classification",
    "Classifier",
    "EvalRecord",
    "EvalReport",
    "LabelledCase",
    "Prompt",
    "PromptBook",
    "Route",
    "RouteDecision",
    "TriageInvalid",
    "TriageResult",
    "Urgency",
    "classify_offline",
    "decide_route",
    "load_labelled",
    "parse_triage",
    "run_eval",
    "summarize",
    "ticket_payload",
    "triage_messages",
]
