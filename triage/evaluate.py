"""Score the classifier against labelled tickets: accuracy, confusion, cost, latency.

Loading and scoring are pure so they can be tested by hand-made records; only
`run_eval` talks to the classifier.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot import SupportbotError
from bot.events import Category, Urgency
from bot.llm.types import CallContext, Usage
from triage.classify import Classification, Classifier

__all__ = [
    "BadEvalFile",
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
    category: Category
    urgency: Urgency
    needs_human: bool


@dataclass(frozen=True)
class EvalRecord:
    """One case and what the classifier made of it."""

    case: LabelledCase
    classification: Classification


class BadEvalFile(SupportbotError, ValueError):
    """A labelled-cases file has a line that is not a valid case."""


def _case(data: Any) -> LabelledCase:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    missing = [key for key in ("text", *_FIELDS) if key not in data]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    if not isinstance(data["text"], str):
        raise ValueError("text must be a string")
    if not isinstance(data["needs_human"], bool):
        raise ValueError("needs_human must be true or false")
    return LabelledCase(
        text=data["text"],
        category=Category(data["category"]),
        urgency=Urgency(data["urgency"]),
        needs_human=data["needs_human"],
    )


def load_labelled(path: str | Path) -> list[LabelledCase]:
    """Read labelled cases, one JSON object per line (blank lines skipped).

    Each line: `{"text": str, "category": ..., "urgency": ..., "needs_human": bool}`.

    Raises:
        BadEvalFile: a line is not valid; the message names the file and line number.
    """
    cases = []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            cases.append(_case(json.loads(line)))
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


@dataclass(frozen=True)
class EvalReport:
    """Aggregate figures of one evaluation run."""

    cases: int
    accuracy: dict[str, float]  # category, urgency, needs_human -> share right
    confusion: dict[str, dict[str, int]]  # expected category -> predicted -> count
    fallback_rate: float
    correction_rate: float
    usage: Usage
    cost_usd: Decimal
    cache_hit_ratio: float
    latency_p50_ms: int
    latency_p95_ms: int
    llm_calls: int = 0
    fallback_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (cost as a string, to keep it exact)."""
        return {
            "cases": self.cases,
            "accuracy": dict(self.accuracy),
            "confusion": {k: dict(v) for k, v in self.confusion.items()},
            "fallback_rate": self.fallback_rate,
            "correction_rate": self.correction_rate,
            "llm_calls": self.llm_calls,
            "fallback_reasons": dict(self.fallback_reasons),
            "tokens": {
                "cache_hit": self.usage.cache_hit_tokens,
                "cache_miss": self.usage.cache_miss_tokens,
                "completion": self.usage.completion_tokens,
            },
            "cost_usd": str(self.cost_usd),
            "cache_hit_ratio": self.cache_hit_ratio,
            "latency_ms": {"p50": self.latency_p50_ms, "p95": self.latency_p95_ms},
        }

    def render(self) -> str:
        """A plain-text report for a terminal."""
        lines = [f"cases: {self.cases}", ""]
        lines += [f"accuracy {name:<12} {value:6.1%}" for name, value in self.accuracy.items()]
        lines += [
            "",
            f"fallback rate    {self.fallback_rate:6.1%}",
            f"correction rate  {self.correction_rate:6.1%}",
            f"model calls      {self.llm_calls}",
            f"tokens           hit {self.usage.cache_hit_tokens}  miss "
            f"{self.usage.cache_miss_tokens}  completion {self.usage.completion_tokens}",
            f"cache hit ratio  {self.cache_hit_ratio:6.1%}",
            f"cost (USD)       {self.cost_usd}",
            f"latency (ms)     p50 {self.latency_p50_ms}  p95 {self.latency_p95_ms}",
            "",
            *self._render_confusion(),
        ]
        lines += [f"fallback: {reason} x{count}" for reason, count in self.fallback_reasons.items()]
        return "\n".join(lines)

    def _render_confusion(self) -> list[str]:
        names = [c.value for c in Category]
        width = max(len(n) for n in names) + 1
        header = "expected \\ predicted".ljust(width + 4) + "".join(n.rjust(width) for n in names)
        rows = [header]
        for expected in names:
            counts = self.confusion.get(expected, {})
            cells = "".join(str(counts.get(p, 0)).rjust(width) for p in names)
            rows.append(expected.ljust(width + 4) + cells)
        return rows


def _share(hits: int, total: int) -> float:
    return hits / total if total else 0.0


def _accuracy(records: Sequence[EvalRecord]) -> dict[str, float]:
    return {
        name: _share(
            sum(getattr(r.case, name) == getattr(r.classification.result, name) for r in records),
            len(records),
        )
        for name in _FIELDS
    }


def _confusion(records: Iterable[EvalRecord]) -> dict[str, dict[str, int]]:
    matrix: dict[str, dict[str, int]] = {}
    for record in records:
        row = matrix.setdefault(record.case.category.value, {})
        predicted = record.classification.result.category.value
        row[predicted] = row.get(predicted, 0) + 1
    return matrix


def summarize(records: Sequence[EvalRecord]) -> EvalReport:
    """Aggregate a run: per-field accuracy, category confusion, rates, tokens, cost, latency.

    Args:
        records: one record per case; an empty run gives zeros.
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
        fallback_rate=_share(
            sum(r.classification.source == "fallback" for r in records), len(records)
        ),
        correction_rate=_share(sum(r.classification.corrected for r in records), len(records)),
        usage=usage,
        cost_usd=cost,
        cache_hit_ratio=_share(usage.cache_hit_tokens, usage.prompt_tokens),
        latency_p50_ms=percentile(latencies, 0.50),
        latency_p95_ms=percentile(latencies, 0.95),
        llm_calls=sum(r.classification.llm_calls for r in records),
        fallback_reasons=reasons,
    )


async def run_eval(
    classifier: Classifier,
    cases: Sequence[LabelledCase],
    *,
    on_progress: Callable[[int], None] | None = None,
) -> list[EvalRecord]:
    """Classify every case in order (sequential keeps the cache warm and the load low).

    Args:
        classifier: the classifier under test.
        cases: labelled cases, e.g. from `load_labelled`.
        on_progress: called with the number of cases done after each one.
    """
    records = []
    for done, case in enumerate(cases, start=1):
        classification = await classifier.classify(case.text, context=CallContext(purpose="eval"))
        records.append(EvalRecord(case, classification))
        if on_progress is not None:
            on_progress(done)
    return records
