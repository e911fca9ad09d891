"""Scoring an eval run: hand-made records, hand-computed figures."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from bot.events import Category, Urgency
from bot.llm.types import Usage
from triage.classify import Classification
from triage.evaluate import EvalRecord, LabelledCase, load_labelled, percentile, summarize
from triage.schema import TriageResult

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "eval-sample.jsonl"


def case(category: Category, urgency: Urgency, needs_human: bool) -> LabelledCase:
    return LabelledCase(text="t", category=category, urgency=urgency, needs_human=needs_human)


def classification(
    category: Category,
    urgency: Urgency,
    needs_human: bool,
    *,
    latency_ms: int,
    source: str = "llm",
    corrected: bool = False,
    hit: int = 0,
    miss: int = 100,
) -> Classification:
    result = TriageResult(
        category=category, urgency=urgency, summary="s", needs_human=needs_human, confidence=0.9
    )
    return Classification(
        result=result,
        source=source,  # type: ignore[arg-type]
        model=None if source == "fallback" else "deepseek-chat",
        prompt_version="triage.v1",
        llm_calls=0 if source == "fallback" else 1 + corrected,
        corrected=corrected,
        usage=Usage(cache_hit_tokens=hit, cache_miss_tokens=miss, completion_tokens=10),
        cost_usd=Decimal("0.001"),
        fallback_reason="no API key" if source == "fallback" else None,
        latency_ms=latency_ms,
    )


B, G, A = Category.BILLING, Category.BUG, Category.ACCOUNT
L, M, H = Urgency.LOW, Urgency.MEDIUM, Urgency.HIGH
RECORDS = [
    EvalRecord(case(B, L, False), classification(B, L, False, latency_ms=100, hit=0)),
    EvalRecord(case(B, H, True), classification(G, H, True, latency_ms=400, hit=64)),
    EvalRecord(case(G, M, False), classification(G, L, False, latency_ms=200, corrected=True)),
    EvalRecord(case(A, M, True), classification(A, M, True, latency_ms=300, source="fallback")),
]


def test_summarize_hand_computed() -> None:
    report = summarize(RECORDS)
    assert report.cases == 4
    assert report.accuracy == {"category": 0.75, "urgency": 0.75, "needs_human": 1.0}
    assert report.confusion == {"billing": {"billing": 1, "bug": 1}, "bug": {"bug": 1},
                                "account": {"account": 1}}  # fmt: skip
    assert report.fallback_rate == 0.25
    assert report.correction_rate == 0.25
    assert report.usage == Usage(cache_hit_tokens=64, cache_miss_tokens=400, completion_tokens=40)
    assert report.cost_usd == Decimal("0.004")
    assert report.cache_hit_ratio == pytest.approx(64 / 464)
    assert (report.latency_p50_ms, report.latency_p95_ms) == (200, 400)
    assert report.llm_calls == 4
    assert report.fallback_reasons == {"no API key": 1}


def test_report_as_dict_is_json_ready_and_render_is_readable() -> None:
    report = summarize(RECORDS)
    data = json.loads(json.dumps(report.as_dict()))
    assert data["cost_usd"] == "0.004"
    assert data["tokens"] == {"cache_hit": 64, "cache_miss": 400, "completion": 40}
    assert data["latency_ms"] == {"p50": 200, "p95": 400}
    text = report.render()
    assert "accuracy category" in text
    assert "75.0%" in text
    assert "p50 200  p95 400" in text
    assert "expected \\ predicted" in text


def test_empty_run_gives_zeros() -> None:
    report = summarize([])
    assert report.cases == 0
    assert report.accuracy == {"category": 0.0, "urgency": 0.0, "needs_human": 0.0}
    assert (report.latency_p50_ms, report.cache_hit_ratio) == (0, 0.0)


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [([10, 20, 30, 40], 0.5, 20), ([10, 20, 30, 40], 0.95, 40), ([5], 0.5, 5),
     (list(range(1, 101)), 0.95, 95), ([], 0.5, 0)],
)  # fmt: skip
def test_percentile_nearest_rank(values: list[int], fraction: float, expected: int) -> None:
    assert percentile(values, fraction) == expected


def test_shipped_sample_loads_and_covers_every_label() -> None:
    cases = load_labelled(SAMPLE)
    assert len(cases) >= 40
    assert {c.category for c in cases} == set(Category)
    assert {c.urgency for c in cases} == set(Urgency)
    assert {c.needs_human for c in cases} == {True, False}
    assert len({c.text for c in cases}) == len(cases)


@pytest.mark.parametrize(
    ("bad_line", "fragment"),
    [
        ("not json", "line 2"),
        ('{"text": "x", "category": "refund", "urgency": "low", "needs_human": false}', "refund"),
        ('{"text": "x", "category": "bug", "needs_human": false}', "missing urgency"),
        ('{"text": "x", "category": "bug", "urgency": "low", "needs_human": "no"}', "true or"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_bad_line_is_named(tmp_path: Path, bad_line: str, fragment: str) -> None:
    good = '{"text": "ok", "category": "bug", "urgency": "low", "needs_human": false}'
    path = tmp_path / "cases.jsonl"
    path.write_text(f"{good}\n{bad_line}\n\n{good}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2") as caught:
        load_labelled(path)
    assert fragment in str(caught.value)
