"""The dated price table: which row applies when, peak hours, and operator overrides."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot import ConfigError
from bot.llm.pricing import PriceTable
from bot.llm.types import Usage

SMALL = Usage(cache_hit_tokens=1000, cache_miss_tokens=2000, completion_tokens=500)
MILLION_EACH = Usage(
    cache_hit_tokens=1_000_000, cache_miss_tokens=1_000_000, completion_tokens=1_000_000
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def prices() -> PriceTable:
    return PriceTable.load()


def test_shipped_table_is_dated(prices: PriceTable) -> None:
    assert prices.as_of is not None
    assert datetime.fromisoformat(prices.as_of).year >= 2025


def test_deepseek_chat_launch_prices(prices: PriceTable) -> None:
    # 2025-01 row: 1000 x 0.07 + 2000 x 0.27 + 500 x 1.10 = 70 + 540 + 550 = 1160 per 1M
    assert prices.cost("deepseek-chat", SMALL, at("2025-02-01T12:00:00")) == Decimal("0.00116")


def test_deepseek_chat_v32_prices(prices: PriceTable) -> None:
    # 2025-09-29 row: 1000 x 0.028 + 2000 x 0.28 + 500 x 0.42 = 28 + 560 + 210 = 798 per 1M
    assert prices.cost("deepseek-chat", SMALL, at("2025-10-15T08:00:00")) == Decimal("0.000798")


def test_deepseek_reasoner_launch_prices(prices: PriceTable) -> None:
    # 2025-01 row: 1000 x 0.14 + 2000 x 0.55 + 500 x 2.19 = 140 + 1100 + 1095 = 2335 per 1M
    cost = prices.cost("deepseek-reasoner", SMALL, at("2025-03-01T00:00:00"))
    assert cost == Decimal("0.002335")


def test_row_changes_exactly_at_its_start(prices: PriceTable) -> None:
    # V3.1 until the last second of 2025-09-28: 0.07 + 0.56 + 1.68 = 2.31 per 1M of each
    before = prices.cost("deepseek-chat", MILLION_EACH, at("2025-09-28T23:59:59"))
    # V3.2 from midnight: 0.028 + 0.28 + 0.42 = 0.728
    after = prices.cost("deepseek-chat", MILLION_EACH, at("2025-09-29T00:00:00"))
    assert (before, after) == (Decimal("2.31"), Decimal("0.728"))


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        # off-peak: 0.003 + 0.15 + 0.60 = 0.753; peak: 0.006 + 0.30 + 1.20 = 1.506
        ("2026-09-14T02:00:00", "1.506"),  # Monday, in 01:00-04:00
        ("2026-09-14T05:00:00", "0.753"),  # Monday, between the windows
        ("2026-09-15T09:59:59", "1.506"),  # Tuesday, in 06:00-10:00
        ("2026-09-15T10:00:00", "0.753"),  # the window's end is exclusive
        ("2026-09-12T02:00:00", "0.753"),  # Saturday: no peak at weekends
    ],
)
def test_flash_peak_and_off_peak(prices: PriceTable, when: str, expected: str) -> None:
    assert prices.cost("deepseek-flash", MILLION_EACH, at(when)) == Decimal(expected)


def test_peak_window_uses_utc(prices: PriceTable) -> None:
    # 04:00 in UTC+3 is 01:00 UTC on a Monday: peak.
    local = datetime.fromisoformat("2026-09-14T04:00:00+03:00")
    assert prices.cost("deepseek-flash", MILLION_EACH, local) == Decimal("1.506")


def test_unknown_model_or_time_costs_nothing(prices: PriceTable) -> None:
    assert prices.cost("gpt-4o", SMALL, at("2025-10-15T00:00:00")) == Decimal(0)
    assert prices.row("gpt-4o", at("2025-10-15T00:00:00")) is None
    assert prices.cost("deepseek-chat", SMALL, at("2024-12-31T23:59:59")) == Decimal(0)
    assert prices.row("deepseek-chat", at("2024-12-31T23:59:59")) is None
    assert prices.row("deepseek-chat", at("2025-10-15T00:00:00")) is not None


def test_naive_time_is_refused(prices: PriceTable) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        prices.cost("deepseek-chat", SMALL, datetime(2025, 10, 15))


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_operator_override_wins_for_same_model_and_start(tmp_path: Path) -> None:
    rows = [
        {"model": "deepseek-chat", "from": "2025-09-29T00:00:00Z", "hit": "0.01", "miss": "0.1",
         "output": "0.2"},
        {"model": "in-house-proxy", "from": "2025-01-01T00:00:00Z", "hit": "0", "miss": "1",
         "output": "2"},
    ]  # fmt: skip
    prices = PriceTable.load(write(tmp_path, {"as_of": "2026-10-01", "rows": rows}))
    # Overridden row: 1000 x 0.01 + 2000 x 0.1 + 500 x 0.2 = 10 + 200 + 100 = 310 per 1M
    assert prices.cost("deepseek-chat", SMALL, at("2025-10-15T00:00:00")) == Decimal("0.00031")
    # Added model: 2000 x 1 + 500 x 2 = 3000 per 1M
    assert prices.cost("in-house-proxy", SMALL, at("2025-10-15T00:00:00")) == Decimal("0.003")
    # Shipped rows the override does not name still apply.
    assert prices.cost("deepseek-chat", SMALL, at("2025-02-01T00:00:00")) == Decimal("0.00116")
    assert prices.as_of == "2026-10-01"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not valid JSON"),
        ({"prices": []}, '"rows" list'),
        ({"rows": [{"model": "m", "from": "2025-01-01T00:00:00Z", "hit": "cheap", "miss": "1",
                    "output": "1"}]}, r"rows\[0\]\.hit"),
        ({"rows": [{"model": "m", "from": "2025-01-01", "hit": "1", "miss": "1",
                    "output": "1"}]}, r"rows\[0\]\.from: needs a timezone"),
        ({"rows": [{"model": "m", "from": "2025-01-01T00:00:00Z", "hit": "1", "miss": "-1",
                    "output": "1"}]}, r"rows\[0\]\.miss: expected a price of zero or more"),
        ({"rows": [{"model": "m", "from": "2025-01-01T00:00:00Z", "hit": "1", "miss": "1",
                    "output": "1", "peak": {"hit": "2", "miss": "2", "output": "2",
                    "windows": [{"days": ["Monday"], "start": "01:00", "end": "04:00"}]}}]},
         r"rows\[0\]\.peak\.windows\[0\]\.days"),
    ],
)  # fmt: skip
def test_bad_override_names_file_and_problem(tmp_path: Path, content: object, problem: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ConfigError, match=problem) as caught:
        PriceTable.load(path)
    assert str(path) in str(caught.value)


def test_missing_override_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(ConfigError, match="cannot read it") as caught:
        PriceTable.load(missing)
    assert str(missing) in str(caught.value)
