"""Score the classifier against labelled tickets: accuracy, confusion, cost, latency.

Labels are checked against the taxonomy under test (an old category name reads as
today's), and the report gives each category its own figures, so a desk sees which
of its categories the model or the rules get wrong. Loading and scoring are pure so
they can be tested by hand-made records; only `run_eval` talks to the classifier.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot import SupportbotError
from bot.config.taxonomy import DEFAULT_TAXONOMY, URGENCY_NAMES, Taxonomy
from bot.llm.types import CallContext, Usage
from triage.classify import Classification, Classifier
from triage.eval_report import CategoryFigures, EvalReport, share

__all__ = [
    "BadEvalFile",
    "CategoryFigures",
    "EvalRecord",
    "EvalReport",
    "LabelledCase",
    "load_labelled",
    "percentile",
    "run_eval",
    "summarize",
]

_FIELDS = ("category", "urgency", "needs_human")


@dataclass(frozen=True)
class LabelledCase:
    """A ticket text and the verdict a careful person would give it."""

    text: str
    category: str
    """Today's name of a category of the taxonomy the file was loaded with."""
    urgency: str
    needs_human: bool


@dataclass(frozen=True)
class EvalRecord:
    """One case and what the classifier made of it."""

    case: LabelledCase
    classification: Classification


class BadEvalFile(SupportbotError, ValueError):
    """A labelled-cases file has a line that is not a valid case."""


def _allowed(names: Iterable[str]) -> str:
    return ", ".join(names)


def _case(data: Any, taxonomy: Taxonomy) -> LabelledCase:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    missing = [key for key in ("text", *_FIELDS) if key not in data]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    if not isinstance(data["text"], str):
        raise ValueError("text must be a string")
    if not isinstance(data["needs_human"], bool):
        raise ValueError("needs_human must be true or false")
    label = data["category"]
    category = taxonomy.canonical(label) if isinstance(label, str) else None
    if category is None:
        raise ValueError(f"category {label!r} is not one of {_allowed(taxonomy.names)}")
    urgency = taxonomy.urgency(data["urgency"]) if isinstance(data["urgency"], str) else None
    if urgency is None:
        raise ValueError(f"urgency {data['urgency']!r} is not one of {_allowed(URGENCY_NAMES)}")
    return LabelledCase(
        text=data["text"], category=category, urgency=urgency.name, needs_human=data["needs_human"]
    )


def load_labelled(path: str | Path, taxonomy: Taxonomy = DEFAULT_TAXONOMY) -> list[LabelledCase]:
    """Read labelled cases, one JSON object per line (blank lines skipped).

    Each line: `{"text": str, "category": ..., "urgency": ..., "needs_human": bool}`,
    the category one of `taxonomy` (a former name is read as today's, any case).

    Raises:
        BadEvalFile: a line is not valid; the message names the file and line number.
    """
    cases = []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            cases.append(_case(json.loads(line), taxonomy))
        except ValueError as exc:
            raise BadEvalFile(f"{path}: line {number}: {exc}") from None
    return cases


def percentile(values: Sequence[int], fraction: float) -> int:
    """The nearest-rank percentile (0 for no values): p50 of 10,20,30,40 is 20."""
    if not values:
        return 0
    ordered = sorted(values)
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]


def _accuracy(records: Sequence[EvalRecord]) -> dict[str, float]:
    return {
        name: share(
            sum(getattr(r.case, name) == getattr(r.classification.result, name) for r in records),
            len(records),
        )
        for name in _FIELDS
    }


def _confusion(records: Iterable[EvalRecord]) -> dict[str, dict[str, int]]:
    matrix: dict[str, dict[str, int]] = {}
    for record in records:
        row = matrix.setdefault(str(record.case.category), {})
        predicted = str(record.classification.result.category)
        row[predicted] = row.get(predicted, 0) + 1
    return matrix


def _per_category(records: Sequence[EvalRecord], taxonomy: Taxonomy) -> dict[str, CategoryFigures]:
    seen = [str(r.case.category) for r in records]
    seen += [str(r.classification.result.category) for r in records]
    names = list(dict.fromkeys([*taxonomy.names, *seen]))
    pairs = [(str(r.case.category), str(r.classification.result.category)) for r in records]
    return {
        name: CategoryFigures(
            cases=sum(expected == name for expected, _ in pairs),
            predicted=sum(predicted == name for _, predicted in pairs),
            correct=sum(expected == predicted == name for expected, predicted in pairs),
        )
        for name in names
    }


def summarize(records: Sequence[EvalRecord], taxonomy: Taxonomy = DEFAULT_TAXONOMY) -> EvalReport:
    """Aggregate a run: per-field accuracy, per-category figures, category confusion,
    rates, tokens, cost, latency.

    Args:
        records: one record per case; an empty run gives zeros.
        taxonomy: the categories the figures are given for, in its order.
    """
    usage, cost, reasons = Usage(), Decimal(0), {}
    for record in records:
        usage += record.classification.usage
        cost += record.classification.cost_usd
        reason = record.classification.fallback_reason
        if reason:
            reasons[reason] = reasons.get(reason, 0) + 1
    latencies = [r.classification.latency_ms for r in records]
    return EvalReport(
        cases=len(records),
        accuracy=_accuracy(records),
        confusion=_confusion(records),
        fallback_rate=share(
            sum(r.classification.source == "fallback" for r in records), len(records)
        ),
        correction_rate=share(sum(r.classification.corrected for r in records), len(records)),
        usage=usage,
        cost_usd=cost,
        cache_hit_ratio=share(usage.cache_hit_tokens, usage.prompt_tokens),
        latency_p50_ms=percentile(latencies, 0.50),
        latency_p95_ms=percentile(latencies, 0.95),
        llm_calls=sum(r.classification.llm_calls for r in records),
        fallback_reasons=reasons,
        per_category=_per_category(records, taxonomy),
    )


async def run_eval(
    classifier: Classifier,
    cases: Sequence[LabelledCase],
    *,
    on_progress: Callable[[int], None] | None = None,
    workspace_id: str | None = None,
) -> list[EvalRecord]:
    """Classify every case in order (sequential keeps the cache warm and the load low).

    Args:
        classifier: the classifier under test.
        cases: labelled cases, e.g. from `load_labelled`.
        on_progress: called with the number of cases done after each one.
        workspace_id: whose playbook the classifier uses (None: the default one).
    """
    records = []
    context = CallContext(purpose="eval", workspace_id=workspace_id)
    for done, case in enumerate(cases, start=1):
        classification = await classifier.classify(case.text, context=context)
        records.append(EvalRecord(case, classification))
        if on_progress is not None:
            on_progress(done)
    return records
