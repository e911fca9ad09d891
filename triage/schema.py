"""The triage verdict and a parser that is strict on meaning, forgiving on form.

Models wrap JSON in fences or prose, shout category names and quote booleans; none
of that changes what they meant, so it is normalised. The category must be one of
the workspace's taxonomy (an old name the operator renamed reads as today's), the
urgency one of its three levels. A wrong value, a missing field or a summary that
does not fit is a different answer, so it is rejected with a short message that
names the field (and, for a category, the allowed names): that message is quoted
back to the model in the one correction re-ask. The optional `search_queries` are a
hint for the knowledge base, not part of the verdict: whatever the model sends there
is cleaned up or dropped, never a reason to re-ask.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from bot.config.taxonomy import DEFAULT_TAXONOMY, URGENCY_NAMES, Taxonomy, normal_name

__all__ = [
    "SEARCH_QUERIES_MAX",
    "SEARCH_QUERY_MAX_CHARS",
    "SUMMARY_MAX_CHARS",
    "TAXONOMY_CONTEXT",
    "TriageInvalid",
    "TriageResult",
    "normalise_search_queries",
    "parse_triage",
]

SUMMARY_MAX_CHARS = 280
SEARCH_QUERIES_MAX = 3
SEARCH_QUERY_MAX_CHARS = 80
_FENCE = re.compile(r"```[ \t]*(?:json)?[ \t]*\n?(?P<body>.*?)```", re.DOTALL | re.IGNORECASE)
TAXONOMY_CONTEXT = "taxonomy"
"""The validation-context key holding the `Taxonomy` a verdict must fit."""
_TRUE = frozenset({"true", "yes"})
_FALSE = frozenset({"false", "no"})


class TriageInvalid(ValueError):
    """The model's output is not a valid triage object; str() explains why, briefly."""


def _allowed(names: tuple[str, ...]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _taxonomy(info: ValidationInfo) -> Taxonomy | None:
    context = info.context
    return context.get(TAXONOMY_CONTEXT) if isinstance(context, dict) else None


def _category_name(value: Any, taxonomy: Taxonomy | None) -> str:
    """Today's name of the category `value` names; any spelling when no taxonomy is given
    (a stored verdict, or one the rules built), only the taxonomy's names otherwise."""
    allowed = _allowed(taxonomy.names) if taxonomy is not None else "a category name"
    if not isinstance(value, str):
        raise ValueError(f"must be a string, one of {allowed}")
    if taxonomy is None:
        name = normal_name(value)
        if not name:
            raise ValueError("must not be empty")
        return name
    found = taxonomy.canonical(value)
    if found is None:
        raise ValueError(f"{value!r} is not one of {allowed}")
    return found


def _urgency_name(value: Any) -> str:
    allowed = _allowed(tuple(reversed(URGENCY_NAMES)))
    if not isinstance(value, str):
        raise ValueError(f"must be a string, one of {allowed}")
    name = normal_name(value)
    if name not in URGENCY_NAMES:
        raise ValueError(f"{value!r} is not one of {allowed}")
    return name


def _cut_at_word(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit + 1]  # a space right after the limit ends a whole word
    if " " not in head:
        return text[:limit]  # one long word: nothing better than a hard cut
    return head.rsplit(" ", 1)[0]


def normalise_search_queries(value: Any) -> tuple[str, ...]:
    """Up to `SEARCH_QUERIES_MAX` distinct, one-line, trimmed search queries from `value`.

    Forgiving by design: a value that is not a list gives (); items that are not
    strings, or blank, are dropped; each query is cut at a word boundary to
    `SEARCH_QUERY_MAX_CHARS`; a repeat (ignoring case) of an earlier one is dropped.
    """
    if not isinstance(value, list | tuple):
        return ()
    kept: list[str] = []
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            continue
        query = _cut_at_word(" ".join(item.split()), SEARCH_QUERY_MAX_CHARS)
        if not query or query.casefold() in seen:
            continue
        seen.add(query.casefold())
        kept.append(query)
        if len(kept) == SEARCH_QUERIES_MAX:
            break
    return tuple(kept)


class TriageResult(BaseModel):
    """A ticket's classification, as stored in `triage_runs` and on the ticket."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    category: str
    """A category of the workspace's taxonomy, by today's name."""
    urgency: str
    """high, medium or low."""
    summary: str
    needs_human: bool
    confidence: float
    search_queries: tuple[str, ...] = ()
    """Queries for the knowledge base in the docs' words; () from the rules or when
    the model gave none usable."""

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, value: Any, info: ValidationInfo) -> str:
        return _category_name(value, _taxonomy(info))

    @field_validator("urgency", mode="before")
    @classmethod
    def _urgency(cls, value: Any) -> str:
        return _urgency_name(value)

    @field_validator("summary", mode="before")
    @classmethod
    def _summary(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        line = " ".join(value.split())
        if not line:
            raise ValueError("must not be empty")
        if len(line) > SUMMARY_MAX_CHARS:
            raise ValueError(
                f"is {len(line)} characters long; write at most {SUMMARY_MAX_CHARS} on one line"
            )
        return line

    @field_validator("needs_human", mode="before")
    @classmethod
    def _needs_human(cls, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ValueError(f"must be true or false, not {value!r}")

    @field_validator("confidence", mode="before")
    @classmethod
    def _confidence(cls, value: Any) -> float:
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            raise ValueError(f"must be a number from 0 to 1, not {value!r}")
        if not 0 <= number <= 1:
            raise ValueError(f"must be from 0 to 1, not {number:g}")
        return number

    @field_validator("search_queries", mode="before")
    @classmethod
    def _search_queries(cls, value: Any) -> tuple[str, ...]:
        return normalise_search_queries(value)


def _explain(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        field = ".".join(str(p) for p in item["loc"]) or "object"
        if item["type"] == "missing":
            parts.append(f'missing field "{field}"')
        else:
            parts.append(f'"{field}": {item["msg"].removeprefix("Value error, ")}')
    return "; ".join(parts)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    return {bool: "a boolean", str: "a string"}.get(type(value), "a number")


def _first_object(text: str) -> dict[str, Any] | None:
    # raw_decode from each "{" finds the first balanced object and copes with
    # braces inside strings, which a brace counter would not.
    decoder = json.JSONDecoder(strict=False)
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return None


def _extract(content: str) -> dict[str, Any]:
    text = content.strip()
    fence = _FENCE.search(text)
    if fence:
        text = fence["body"].strip()
    try:
        # strict=False: a raw newline inside the summary string is form, not meaning.
        value = json.loads(text, strict=False)
    except ValueError:
        found = _first_object(text)
        if found is None:
            raise TriageInvalid("the reply is not JSON: no JSON object found") from None
        return found
    if not isinstance(value, dict):
        raise TriageInvalid(f"expected one JSON object, got {_kind(value)}")
    return value


def parse_triage(content: str | None, taxonomy: Taxonomy = DEFAULT_TAXONOMY) -> TriageResult:
    """Parse a model reply into a `TriageResult` that fits `taxonomy`.

    Accepts fenced JSON, JSON wrapped in prose, category and urgency names in any
    case with spaces or hyphens (and a category's former names, as today's),
    "true"/"false"/"yes"/"no" for `needs_human`, numeric strings for `confidence`,
    and multi-line summaries (collapsed to one line). Extra keys are dropped.
    `search_queries` is optional and never fails: see `normalise_search_queries`.

    Args:
        content: the assistant message content, possibly None or empty.
        taxonomy: the categories the verdict must use.

    Raises:
        TriageInvalid: the reply is blank, not a JSON object, or a field is missing,
            of the wrong type or out of range (a category outside the taxonomy); the
            message names the field and, for a category, the allowed names.
    """
    if content is None or not content.strip():
        raise TriageInvalid("the reply was empty; answer with one JSON object")
    data = _extract(content)
    try:
        return TriageResult.model_validate(data, context={TAXONOMY_CONTEXT: taxonomy})
    except ValidationError as exc:
        raise TriageInvalid(_explain(exc)) from None
