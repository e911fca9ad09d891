"""Numbered sources for an answer request, and the citations in what came back.

Passages are numbered by document: two passages of one page share its number, so a
page is listed once under the answer. Only citations of numbers that were given
survive; `[7]` in an answer that had five sources is removed, as is any bracketed
number a model invents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.events import SourceLink
from bot.knowledge.retrieval import Hit

__all__ = ["NumberedSource", "cite", "number_sources"]

_CITATION = re.compile(r"\s?\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")


@dataclass(frozen=True)
class NumberedSource:
    """One document's passages, under the number the answer cites it by."""

    number: int
    hits: tuple[Hit, ...]

    @property
    def link(self) -> SourceLink:
        """How it is listed under the answer."""
        first = self.hits[0]
        return SourceLink(
            number=self.number, title=first.title, location=first.location, url=first.url
        )

    def as_data(self) -> dict[str, object]:
        """The JSON the answer request carries."""
        return {
            "n": self.number,
            "title": self.hits[0].title,
            "passages": [{"heading": h.heading, "text": h.text} for h in self.hits],
        }


def number_sources(hits: Sequence[Hit], max_tokens: int) -> list[NumberedSource]:
    """Group `hits` (best first) by document and number them 1, 2, ...; passages past
    `max_tokens` in all are left out (the best one always goes in)."""
    grouped: dict[str, list[Hit]] = {}
    budget = max_tokens
    for hit in hits:
        if budget < hit.tokens and grouped:
            continue
        budget -= hit.tokens
        grouped.setdefault(hit.location, []).append(hit)
    return [
        NumberedSource(number=n, hits=tuple(group))
        for n, group in enumerate(grouped.values(), start=1)
    ]


def cite(text: str, sources: Sequence[NumberedSource]) -> tuple[str, tuple[SourceLink, ...]]:
    """`text` with invalid citations removed, and the links of the valid ones, by number."""
    valid = {source.number: source for source in sources}
    cited: set[int] = set()

    def keep(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        kept = [n for n in numbers if n in valid]
        cited.update(kept)
        if not kept:
            return ""
        space = " " if match.group(0).startswith((" ", "\t", "\n")) else ""
        return space + "".join(f"[{n}]" for n in kept)

    cleaned = _CITATION.sub(keep, text)
    return cleaned, tuple(valid[n].link for n in sorted(cited))
