"""`kb eval`: how well retrieval finds the right page for labelled questions.

Each line of the file is `{"question": "...", "sources": ["billing.md", ...]}`. A
question is found at k when one of its sources is among the first k distinct
documents retrieved. Lines with `"sources": []` are questions the docs don't cover:
for them the right outcome is "I don't know", so they measure the score floor.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.sources import SourceError

__all__ = [
    "BadQuestionsFile",
    "Question",
    "RetrievalReport",
    "docs_outcomes",
    "load_questions",
    "run_eval",
]

FLOORS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)


class BadQuestionsFile(SourceError):
    """The questions file cannot be read; the message names the line."""


@dataclass(frozen=True)
class Question:
    """One labelled question."""

    question: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class _Result:
    question: Question
    ranked: list[str]
    top_score: float


def load_questions(path: str | Path) -> list[Question]:
    """Read a JSON-lines file of questions and the sources that answer them.

    Raises:
        BadQuestionsFile: unreadable, or a line is not such an object.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadQuestionsFile(f"cannot read {path}: {type(exc).__name__}") from None
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            question, sources = data["question"], data.get("sources", [])
            if not isinstance(question, str) or not question.strip():
                raise TypeError
            if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise BadQuestionsFile(
                f'{path}, line {number}: expected {{"question": "...", "sources": [...]}}'
            ) from None
        questions.append(Question(question, tuple(sources)))
    if not questions:
        raise BadQuestionsFile(f"{path} holds no questions")
    return questions


@dataclass
class RetrievalReport:
    """Recall@1, recall@5, MRR and the misses; and how the score floor splits
    questions the docs answer from those they don't."""

    floor: float
    results: list[_Result] = field(default_factory=list)

    def _answerable(self) -> list[_Result]:
        return [r for r in self.results if r.question.sources]

    def _rank(self, result: _Result) -> int | None:
        wanted = set(result.question.sources)
        return next((i for i, loc in enumerate(result.ranked, 1) if loc in wanted), None)

    def recall_at(self, k: int) -> float:
        """Share of answerable questions with a right page in the first k."""
        answerable = self._answerable()
        found = sum(1 for r in answerable if (rank := self._rank(r)) is not None and rank <= k)
        return found / len(answerable) if answerable else 0.0

    def mrr(self) -> float:
        """Mean reciprocal rank of the first right page (0 when none in the results)."""
        answerable = self._answerable()
        total = sum(1 / rank for r in answerable if (rank := self._rank(r)) is not None)
        return total / len(answerable) if answerable else 0.0

    def floor_split(self, floor: float) -> dict[str, float]:
        """At `floor`: answerable questions kept (top score above it) and uncovered
        questions turned away (top score below it)."""
        answerable = self._answerable()
        uncovered = [r for r in self.results if not r.question.sources]
        kept = sum(1 for r in answerable if r.top_score >= floor)
        refused = sum(1 for r in uncovered if r.top_score < floor)
        return {
            "floor": floor,
            "answered": kept / len(answerable) if answerable else 0.0,
            "abstained_correctly": refused / len(uncovered) if uncovered else 1.0,
        }

    def misses(self) -> list[dict[str, Any]]:
        """Answerable questions whose right page was not in the first 5."""
        return [
            {
                "question": r.question.question,
                "expected": list(r.question.sources),
                "got": r.ranked[:5],
            }
            for r in self._answerable()
            if (rank := self._rank(r)) is None or rank > 5
        ]

    def as_dict(self) -> dict[str, Any]:
        """The JSON of `kb eval --json`."""
        return {
            "questions": len(self.results),
            "answerable": len(self._answerable()),
            "recall_at_1": round(self.recall_at(1), 4),
            "recall_at_5": round(self.recall_at(5), 4),
            "mrr": round(self.mrr(), 4),
            "floor": self.floor_split(self.floor),
            "floors": [self.floor_split(f) for f in FLOORS],
            "misses": self.misses(),
        }

    def render(self) -> str:
        """The report for a person."""
        data = self.as_dict()
        split = data["floor"]
        lines = [
            f"{data['questions']} questions ({data['answerable']} the docs answer)",
            f"recall@1  {data['recall_at_1']:.2f}",
            f"recall@5  {data['recall_at_5']:.2f}",
            f"MRR       {data['mrr']:.2f}",
            f"at the score floor {split['floor']:.2f}: {split['answered']:.0%} answered from the "
            f"docs, {split['abstained_correctly']:.0%} of uncovered questions turned away",
        ]
        for miss in data["misses"]:
            lines.append(
                f"  missed: {miss['question'][:70]!r} wanted {', '.join(miss['expected'])}"
            )
        return "\n".join(lines)


async def run_eval(
    knowledge: KnowledgeBase,
    questions: list[Question],
    *,
    floor: float,
    workspace_id: str | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> RetrievalReport:
    """Search for every question and score the rankings."""
    report = RetrievalReport(floor=floor)
    for done, question in enumerate(questions, start=1):
        hits = await knowledge.search([question.question], workspace_id=workspace_id, limit=10)
        ranked = list(dict.fromkeys(hit.location for hit in hits))
        report.results.append(_Result(question, ranked, hits[0].score if hits else 0.0))
        if on_progress is not None:
            on_progress(done)
    return report


async def docs_outcomes(knowledge: KnowledgeBase, texts: list[str], floor: float) -> dict[str, Any]:
    """How many `texts` would be answered with sources (a passage above `floor`) and how
    many would go to a person: what `supportbot eval` reports beside triage."""
    answered = 0
    for text in texts:
        hits = await knowledge.search([text], limit=1)
        answered += bool(hits) and hits[0].score >= floor
    return {"answered_with_sources": answered, "abstained": len(texts) - answered, "floor": floor}
