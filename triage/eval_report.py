"""An evaluation run's figures: per-field accuracy, each category's precision and
recall, the confusion matrix, rates, tokens, cost and latency, for a terminal or JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.llm.types import Usage

__all__ = ["CategoryFigures", "EvalReport", "share"]


def share(hits: int, total: int) -> float:
    """hits / total, 0 for an empty total."""
    return hits / total if total else 0.0


@dataclass(frozen=True)
class CategoryFigures:
    """How one category fared: the cases labelled with it and the verdicts naming it."""

    cases: int  # labelled with this category
    predicted: int  # verdicts with this category
    correct: int  # both

    @property
    def precision(self) -> float:
        """Of the verdicts naming this category, the share that were right."""
        return share(self.correct, self.predicted)

    @property
    def recall(self) -> float:
        """Of the cases labelled with this category, the share found."""
        return share(self.correct, self.cases)

    def line(self, name: str, width: int) -> str:
        """One row of the report's per-category table."""
        shares = f"{self.precision:>9.1%}  {self.recall:>6.1%}"
        return f"{name:<{width}}{self.cases:>5}  {self.correct:>7}  {shares}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {
            "cases": self.cases,
            "predicted": self.predicted,
            "correct": self.correct,
            "precision": self.precision,
            "recall": self.recall,
        }


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
    per_category: dict[str, CategoryFigures] = field(default_factory=dict)
    """Every category of the taxonomy in its order (then any other name seen)."""

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (cost as a string, to keep it exact)."""
        return {
            "cases": self.cases,
            "accuracy": dict(self.accuracy),
            "confusion": {k: dict(v) for k, v in self.confusion.items()},
            "per_category": {name: f.as_dict() for name, f in self.per_category.items()},
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
            *self._render_per_category(),
            "",
            *self._render_confusion(),
        ]
        lines += [f"fallback: {reason} x{count}" for reason, count in self.fallback_reasons.items()]
        return "\n".join(lines)

    def _render_per_category(self) -> list[str]:
        width = max((len(name) for name in self.per_category), default=8) + 2
        rows = [f"{'category':<{width}}cases  correct  precision  recall"]
        return rows + [f.line(name, width) for name, f in self.per_category.items()]

    def _render_confusion(self) -> list[str]:
        names = list(self.per_category) or sorted(self.confusion)
        width = max((len(n) for n in names), default=8) + 1
        header = "expected \\ predicted".ljust(width + 4) + "".join(n.rjust(width) for n in names)
        rows = [header]
        for expected in names:
            counts = self.confusion.get(expected, {})
            cells = "".join(str(counts.get(p, 0)).rjust(width) for p in names)
            rows.append(expected.ljust(width + 4) + cells)
        return rows
