"""Offline, rule-based triage for when the model cannot be used.

Weighted patterns give a rough category and urgency so the ticket still lands in the
right queue; the verdict is always handed to a person (`needs_human`) with a low
confidence, because rules cannot read intent the way the model can.

The built-in patterns know the five default categories by name; a custom taxonomy
that keeps (or formerly had) one of those names still gets them. Every category's
own `keywords` and `examples`, and every urgency's `cues`, count on top. Text is
compared case-folded and without accents, so "contraseña" and "contrasena" are one
word to the rules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.config.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from triage.offline_cues import BUILT_IN, CALM, HIGH, LOW, MEDIUM, QUIET, SCOPE, STOP_WORDS, Rule
from triage.schema import SUMMARY_MAX_CHARS, TriageResult

__all__ = ["FALLBACK_CONFIDENCE", "classify_offline"]

FALLBACK_CONFIDENCE = 0.3
EMPTY_SUMMARY = "(empty message)"
KEYWORD_WEIGHT = 4.0
"""An operator's keyword outweighs any built-in pattern: they know their desk."""
EXAMPLE_WEIGHT = 1.0
EXAMPLE_WORDS_COUNTED = 3
"""Word overlap with a category's examples counts, but only for a few words."""
CUE_WEIGHT = 3.0
HIGH_AT = 3.0
"""One strong high cue (outage, data loss, security, legal, money taken) is enough."""

_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def _fold(text: str) -> str:
    """Lower case without accents: the form every pattern is written for."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_APOSTROPHES))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _phrase(phrase: str) -> re.Pattern[str]:
    """A whole-word, case- and accent-insensitive pattern for an operator's word or phrase."""
    words = (re.escape(word) for word in _fold(phrase).split())
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def _content_words(text: str) -> frozenset[str]:
    return frozenset(
        word for word in _WORD.findall(_fold(text)) if len(word) > 2 and word not in STOP_WORDS
    )


@dataclass(frozen=True)
class _CategoryRules:
    name: str
    rules: tuple[Rule, ...]
    example_words: frozenset[str]


@dataclass(frozen=True)
class _Tables:
    """One taxonomy's rules, compiled once."""

    categories: tuple[_CategoryRules, ...]
    high: tuple[Rule, ...]
    medium: tuple[Rule, ...]
    low: tuple[Rule, ...]
    quiet: frozenset[str]


@lru_cache(maxsize=32)
def _tables(taxonomy: Taxonomy) -> _Tables:
    # Built-in patterns follow a default category through a rename (`formerly`).
    built_in: dict[str, tuple[Rule, ...]] = {}
    for old_name, rules in BUILT_IN.items():
        name = taxonomy.canonical(old_name)
        if name is not None:
            built_in[name] = built_in.get(name, ()) + rules
    categories = tuple(
        _CategoryRules(
            name=category.name,
            rules=built_in.get(category.name, ())
            + tuple((_phrase(keyword), KEYWORD_WEIGHT) for keyword in category.keywords),
            example_words=frozenset().union(*(_content_words(e) for e in category.examples)),
        )
        for category in taxonomy.categories
    )
    cues = {u.name: tuple((_phrase(cue), CUE_WEIGHT) for cue in u.cues) for u in taxonomy.urgencies}
    quiet = {taxonomy.canonical(name) for name in QUIET} | {taxonomy.fallback_category}
    return _Tables(
        categories=categories,
        high=HIGH + cues.get("high", ()),
        medium=MEDIUM + cues.get("medium", ()),
        low=LOW + cues.get("low", ()),
        quiet=frozenset(name for name in quiet if name is not None),
    )


def _score(rules: tuple[Rule, ...], text: str) -> float:
    return sum(weight for pattern, weight in rules if pattern.search(text))


def _category(folded: str, tables: _Tables, fallback: str) -> str:
    words = _content_words(folded)
    best, best_score = fallback, 0.0
    # Strictly greater: on a tie the category listed first in the taxonomy wins.
    for category in tables.categories:
        shared = min(len(words & category.example_words), EXAMPLE_WORDS_COUNTED)
        score = _score(category.rules, folded) + EXAMPLE_WEIGHT * shared
        if score > best_score:
            best, best_score = category.name, score
    return best


def _urgency(folded: str, tables: _Tables, category: str) -> str:
    # The writer knows best when they say it can wait ("not urgent", "no rush").
    if CALM.search(folded):
        return "low"
    medium = _score(tables.medium, folded)
    low = _score(tables.low, folded)
    high = _score(tables.high, folded)
    # "For my whole team" in a how-do-I question is no incident; in a report it is.
    if high or medium or not low:
        high += _score(SCOPE, folded)
    if high >= HIGH_AT:
        return "high"
    if low > medium or (medium == 0 and category in tables.quiet):
        return "low"
    return "medium"


def _summary(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not line:
        return EMPTY_SUMMARY
    sentence = " ".join(_SENTENCE_END.split(line, maxsplit=1)[0].split())
    if len(sentence) > SUMMARY_MAX_CHARS:
        sentence = sentence[: SUMMARY_MAX_CHARS - 1].rstrip() + "…"
    return sentence


def classify_offline(text: str, taxonomy: Taxonomy = DEFAULT_TAXONOMY) -> TriageResult:
    """Classify a ticket with weighted rules, without any network call.

    Args:
        text: the ticket text.
        taxonomy: the workspace's categories and urgency cues; the built-in patterns
            apply to the default category names it has (or had, in `formerly`).

    Returns:
        A deterministic verdict in the taxonomy's names (its fallback category when
        nothing matches), with `needs_human=True` and confidence 0.3; the summary is
        the first sentence of the first non-blank line.
    """
    tables = _tables(taxonomy)
    folded = _fold(text)
    category = _category(folded, tables, taxonomy.fallback_category)
    return TriageResult(
        category=category,
        urgency=_urgency(folded, tables, category),
        summary=_summary(text),
        needs_human=True,
        confidence=FALLBACK_CONFIDENCE,
    )
