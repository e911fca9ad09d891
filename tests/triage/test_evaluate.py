"""Scoring an eval run: hand-made records, hand-computed figures."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from bot.config.taxonomy import CategoryDef, Taxonomy
from bot.events import Category, Urgency
from bot.llm.types import Usage
from triage.classify import Classification
from triage.evaluate import (
    BadEvalFile,
    EvalRecord,
    LabelledCase,
    load_labelled,
    percentile,
    summarize,
)
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


# --- per category, and labels from the taxonomy ------------------------------------


def test_each_category_gets_its_cases_precision_and_recall() -> None:
    report = summarize(RECORDS)
    figures = {name: f.as_dict() for name, f in report.per_category.items()}
    # Every category of the taxonomy, in its order, even one with no cases.
    assert list(figures) == ["billing", "bug", "feature_request", "account", "other"]
    assert figures["billing"] == {
        "cases": 2, "predicted": 1, "correct": 1, "precision": 1.0, "recall": 0.5,
    }  # fmt: skip
    assert figures["bug"] == {
        "cases": 1, "predicted": 2, "correct": 1, "precision": 0.5, "recall": 1.0,
    }  # fmt: skip
    assert figures["account"]["precision"] == figures["account"]["recall"] == 1.0
    assert figures["other"] == {
        "cases": 0, "predicted": 0, "correct": 0, "precision": 0.0, "recall": 0.0,
    }  # fmt: skip
    data = json.loads(json.dumps(report.as_dict()))
    assert data["per_category"] == figures


def test_render_shows_one_line_per_category() -> None:
    lines = summarize(RECORDS).render().splitlines()
    (header,) = [i for i, line in enumerate(lines) if line.startswith("category ")]
    assert lines[header].split() == ["category", "cases", "correct", "precision", "recall"]
    rows = lines[header + 1 : header + 6]
    assert [row.split()[0] for row in rows] == [
        "billing", "bug", "feature_request", "account", "other",
    ]  # fmt: skip
    assert rows[0].split()[1:] == ["2", "1", "100.0%", "50.0%"]
    assert rows[1].split()[1:] == ["1", "1", "50.0%", "100.0%"]


GAME = Taxonomy(
    categories=(
        CategoryDef(name="crash", description="the game crashes", formerly=("bug",)),
        CategoryDef(name="purchases", description="coins and skins"),
        CategoryDef(name="other", description="anything else"),
    )
)


def write_cases(tmp_path: Path, *lines: dict[str, object]) -> Path:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def test_labels_are_read_with_the_taxonomy(tmp_path: Path) -> None:
    path = write_cases(
        tmp_path,
        {"text": "a", "category": "Crash", "urgency": "HIGH", "needs_human": False},
        {"text": "b", "category": "bug", "urgency": "low", "needs_human": False},  # formerly
        {"text": "c", "category": "purchases", "urgency": "medium", "needs_human": True},
    )
    cases = load_labelled(path, GAME)
    assert [(c.category, c.urgency) for c in cases] == [
        ("crash", "high"), ("crash", "low"), ("purchases", "medium"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("label", "fragment"),
    [
        (
            {"category": "billing"},
            "line 2: category 'billing' is not one of crash, purchases, other",
        ),
        ({"urgency": "urgent"}, "line 2: urgency 'urgent' is not one of high, medium, low"),
        ({"category": 3}, "line 2: category 3 is not one of"),
    ],
)
def test_a_label_outside_the_taxonomy_names_the_line(
    tmp_path: Path, label: dict[str, object], fragment: str
) -> None:
    good = {"text": "ok", "category": "crash", "urgency": "low", "needs_human": False}
    path = write_cases(tmp_path, good, {**good, **label})
    with pytest.raises(BadEvalFile) as caught:
        load_labelled(path, GAME)
    assert fragment in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_custom_taxonomys_report_lists_its_categories() -> None:
    records = [
        EvalRecord(
            LabelledCase(text="t", category="crash", urgency="high", needs_human=False),
            classification("crash", "high", False, latency_ms=10),  # type: ignore[arg-type]
        ),
        EvalRecord(
            LabelledCase(text="t", category="purchases", urgency="low", needs_human=True),
            classification("other", "low", True, latency_ms=10),  # type: ignore[arg-type]
        ),
    ]
    report = summarize(records, GAME)
    assert list(report.per_category) == ["crash", "purchases", "other"]
    assert report.per_category["purchases"].recall == 0.0
    assert report.per_category["other"].precision == 0.0
    assert report.confusion == {"crash": {"crash": 1}, "purchases": {"other": 1}}
    assert "expected \\ predicted" in report.render()
    assert "billing" not in report.render()
