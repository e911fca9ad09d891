"""What a DeepSeek call cost, from a dated price table.

DeepSeek changes prices and model names over time, so prices live in a data file
(`prices.json`, shipped with the package) rather than in code. Each row says from
when a model's prices apply; a call is priced by its start time. An operator can give
a file of the same shape (`SUPPORTBOT_PRICES_FILE`) whose rows are added and win over
shipped rows of the same model and start.

File shape (prices are USD per 1M tokens, written as strings so no float rounding
creeps in)::

    {"as_of": "2026-11-25",
     "rows": [{"model": "deepseek-chat", "from": "2025-09-29T00:00:00Z",
               "hit": "0.028", "miss": "0.28", "output": "0.42",
               "peak": {"hit": "...", "miss": "...", "output": "...",
                        "windows": [{"days": ["Mon", "Fri"], "start": "01:00",
                                     "end": "04:00"}]}}]}

`peak` is optional; its windows are UTC, start inclusive, end exclusive.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from bot import ConfigError
from bot.llm.types import Usage

__all__ = ["PeakWindow", "PriceRow", "PriceTable", "Rates"]

_MILLION = Decimal(1_000_000)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, kw_only=True)
class Rates:
    """USD per 1M tokens."""

    hit: Decimal
    miss: Decimal
    output: Decimal


@dataclass(frozen=True, kw_only=True)
class PeakWindow:
    """A weekly UTC time window in which peak prices apply."""

    weekdays: frozenset[int]  # Monday is 0, as in datetime.weekday()
    start: time
    end: time

    def contains(self, at: datetime) -> bool:
        """Whether the UTC instant `at` falls in this window."""
        utc = at.astimezone(UTC)
        return utc.weekday() in self.weekdays and self.start <= utc.time() < self.end


@dataclass(frozen=True, kw_only=True)
class PriceRow:
    """The prices of one model from one instant on, until a later row replaces them."""

    model: str
    start: datetime
    rates: Rates
    peak: Rates | None = None
    peak_windows: tuple[PeakWindow, ...] = ()

    def rates_at(self, at: datetime) -> Rates:
        """Peak rates when `at` is in a peak window, off-peak rates otherwise."""
        if self.peak is not None and any(w.contains(at) for w in self.peak_windows):
            return self.peak
        return self.rates


class PriceTable:
    """Dated prices per model; answers what a call's usage cost."""

    def __init__(self, rows: Iterable[PriceRow], *, as_of: str | None = None) -> None:
        self.as_of = as_of
        by_model: dict[str, list[PriceRow]] = {}
        for row in rows:
            by_model.setdefault(row.model, []).append(row)
        self._rows = {m: sorted(rs, key=lambda r: r.start) for m, rs in by_model.items()}

    @classmethod
    def load(cls, override: Path | None = None) -> PriceTable:
        """The shipped table, with the operator's file merged in when given.

        Args:
            override: a JSON file of the same shape as the shipped `prices.json`.
                Its rows are added; for the same model and start they win.

        Raises:
            ConfigError: the override cannot be read or is malformed; the message
                names the file and the problem.
        """
        shipped_text = resources.files("bot.llm").joinpath("prices.json").read_text("utf-8")
        as_of, rows = _parse_table(json.loads(shipped_text), "bot/llm/prices.json")
        merged = {(r.model, r.start): r for r in rows}
        if override is not None:
            over_as_of, over_rows = _parse_table(_read_json(override), str(override))
            merged.update({(r.model, r.start): r for r in over_rows})
            as_of = over_as_of or as_of
        return cls(merged.values(), as_of=as_of)

    def row(self, model: str, at: datetime) -> PriceRow | None:
        """The row of `model` in force at `at` (latest start not after it), if any."""
        if at.tzinfo is None:
            raise ValueError("prices need a timezone-aware time (UTC)")
        current = None
        for row in self._rows.get(model, ()):
            if row.start > at:
                break
            current = row
        return current

    def cost(self, model: str, usage: Usage, at: datetime) -> Decimal:
        """USD cost of `usage` on `model` for a call started at `at`.

        Reasoning tokens are part of completion tokens, so they are not added again.
        Unknown models and times before the first row cost Decimal("0").
        """
        row = self.row(model, at)
        if row is None:
            return Decimal(0)
        rates = row.rates_at(at)
        total = (
            usage.cache_hit_tokens * rates.hit
            + usage.cache_miss_tokens * rates.miss
            + usage.completion_tokens * rates.output
        )
        return total / _MILLION


class _BadTable(Exception):
    """A problem at one place in a price file; turned into ConfigError with the file name."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"price file {path}: cannot read it ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"price file {path}: not valid JSON ({exc})") from None


def _parse_table(data: Any, origin: str) -> tuple[str | None, list[PriceRow]]:
    try:
        if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
            raise _BadTable('expected an object with a "rows" list')
        as_of = data.get("as_of")
        rows = [_parse_row(item, f"rows[{i}]") for i, item in enumerate(data["rows"])]
    except _BadTable as exc:
        raise ConfigError(f"price file {origin}: {exc}") from None
    return (str(as_of) if as_of is not None else None), rows


def _parse_row(item: Any, where: str) -> PriceRow:
    if not isinstance(item, dict):
        raise _BadTable(f"{where}: expected an object")
    model = item.get("model")
    if not isinstance(model, str) or not model:
        raise _BadTable(f"{where}.model: expected a model name")
    peak = item.get("peak")
    if peak is not None and not isinstance(peak, dict):
        raise _BadTable(f"{where}.peak: expected an object")
    return PriceRow(
        model=model,
        start=_parse_start(item.get("from"), f"{where}.from"),
        rates=_parse_rates(item, where),
        peak=_parse_rates(peak, f"{where}.peak") if peak else None,
        peak_windows=_parse_windows(peak.get("windows"), f"{where}.peak") if peak else (),
    )


def _parse_start(value: Any, where: str) -> datetime:
    try:
        start = datetime.fromisoformat(str(value))
    except ValueError:
        raise _BadTable(f"{where}: expected an ISO date-time like 2025-09-29T00:00:00Z") from None
    if start.tzinfo is None:
        raise _BadTable(f"{where}: needs a timezone, e.g. a trailing Z for UTC")
    return start


def _parse_rates(item: dict[str, Any], where: str) -> Rates:
    return Rates(
        **{k: _parse_price(item.get(k), f"{where}.{k}") for k in ("hit", "miss", "output")}
    )


def _parse_price(value: Any, where: str) -> Decimal:
    # Numbers are accepted too, via str(), which keeps the digits the operator wrote.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _BadTable(f'{where}: expected a price string like "0.28"')
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise _BadTable(f'{where}: expected a price string like "0.28"') from None
    if not price.is_finite() or price < 0:
        raise _BadTable(f"{where}: expected a price of zero or more")
    return price


def _parse_windows(value: Any, where: str) -> tuple[PeakWindow, ...]:
    if not isinstance(value, list) or not value:
        raise _BadTable(f"{where}.windows: expected a list of peak windows")
    return tuple(_parse_window(w, f"{where}.windows[{i}]") for i, w in enumerate(value))


def _parse_window(value: Any, where: str) -> PeakWindow:
    if not isinstance(value, dict):
        raise _BadTable(f"{where}: expected an object with days, start, end")
    days = value.get("days")
    if not isinstance(days, list) or not days or any(d not in _DAYS for d in days):
        raise _BadTable(f"{where}.days: expected day names from {', '.join(_DAYS)}")
    try:
        start, end = time.fromisoformat(value["start"]), time.fromisoformat(value["end"])
    except (KeyError, TypeError, ValueError):
        raise _BadTable(f'{where}: expected "start" and "end" times like "01:00"') from None
    if start >= end:
        raise _BadTable(f"{where}: start must be before end")
    return PeakWindow(weekdays=frozenset(_DAYS.index(d) for d in days), start=start, end=end)
