"""Cutting documents into chunks of about 200-500 words that follow their headings.

Small neighbouring sections under the same top-level heading are merged; a merged
chunk is headed by the heading path its sections share, and each section deeper
than that keeps its own heading path (joined as `Chunk.heading` joins it) as a
first line, so nothing a reader would search for is lost. A long section is split
at paragraphs, then lines, then sentences, each piece starting with the last words
of the one before.
Fenced code blocks stay whole unless one alone exceeds twice `max_words`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bot.knowledge.documents import Chunk, Document, Section
from bot.knowledge.formats import split_fences

__all__ = ["chunk_document"]

_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")
_FENCE = re.compile(r"\s*(`{3,}|~{3,})")


@dataclass(frozen=True)
class _Limits:
    target: int
    maximum: int
    minimum: int
    overlap: int


@dataclass(frozen=True)
class _Unit:
    """A piece of a section that is never cut further when packing."""

    text: str
    glue: str
    """What joins it to the unit before: a blank line, a newline or a space."""
    code: bool = False

    @property
    def words(self) -> int:
        return _words(self.text)


def chunk_document(
    document: Document,
    *,
    target_words: int = 350,
    max_words: int = 500,
    min_words: int = 200,
    overlap_words: int = 40,
) -> list[Chunk]:
    """Cut a document into chunks under its heading paths.

    Args:
        document: The parsed document; its title is not repeated in the chunks.
        target_words: Merge sections and pack paragraphs up to about this many words.
        max_words: No chunk is longer, except one holding a single code block that
            is at most twice this long (longer ones are split at lines).
        min_words: A piece shorter than this joins its neighbour under the same top
            heading when together they stay within `max_words`.
        overlap_words: How many words of a split section's previous piece are
            repeated at the start of the next.

    Returns:
        The chunks, numbered from 0; none for a document without text.

    Raises:
        ValueError: The limits contradict each other.
    """
    if not (0 <= min_words <= target_words <= max_words and 0 <= overlap_words < target_words):
        raise ValueError("expected 0 <= min <= target <= max words and overlap < target")
    limits = _Limits(target_words, max_words, min_words, overlap_words)
    pieces = [
        piece
        for group in _top_level_groups(document.sections)
        for piece in _chunk_group(group, limits)
    ]
    return [Chunk(ordinal, headings, text) for ordinal, (headings, text) in enumerate(pieces)]


def _words(text: str) -> int:
    return len(text.split())


def _top_level_groups(sections: Sequence[Section]) -> Iterator[list[Section]]:
    """Runs of sections under one top-level heading; text before any heading joins
    the first run, as the document's introduction."""
    sections = [section for section in sections if section.text.strip()]
    first = next((s.headings[:1] for s in sections if s.headings), ())
    group: list[Section] = []
    key: tuple[str, ...] = first
    for section in sections:
        section_key = section.headings[:1] or first
        if group and section_key != key:
            yield group
            group = []
        group.append(section)
        key = section_key
    if group:
        yield group


def _chunk_group(sections: list[Section], limits: _Limits) -> Iterator[tuple[tuple[str, ...], str]]:
    waiting: list[Section] = []
    for section in sections:
        if _words(section.text) <= limits.maximum:
            waiting.append(section)
            continue
        yield from _merge(waiting, limits)
        waiting = []
        for text in _split(section.text, limits):
            yield section.headings, text
    yield from _merge(waiting, limits)


def _merge(sections: list[Section], limits: _Limits) -> Iterator[tuple[tuple[str, ...], str]]:
    # Counting every heading below the top one bounds what _join may add.
    sizes = [_words(s.text) + _words(" ".join(s.headings[1:])) for s in sections]
    for group in _pack(sizes, limits.target, limits.maximum, limits.minimum):
        yield _join([sections[index] for index in group])


def _pack(sizes: list[int], target: int, maximum: int, minimum: int) -> list[list[int]]:
    """Group consecutive items up to `target` (up to `maximum` to rescue a small group)."""
    groups: list[list[int]] = []
    total = 0
    for index, size in enumerate(sizes):
        fits = total + size <= target or (total < minimum and total + size <= maximum)
        if not groups or not fits:
            groups.append([])
            total = 0
        groups[-1].append(index)
        total += size
    if len(groups) > 1:
        last, before = (sum(sizes[i] for i in g) for g in (groups[-1], groups[-2]))
        if last < minimum and last + before <= maximum:
            groups[-2:] = [groups[-2] + groups[-1]]
    return groups


def _join(sections: list[Section]) -> tuple[tuple[str, ...], str]:
    """One chunk from sections: headed by their shared path, deeper headings kept inline."""
    paths = [s.headings for s in sections if s.headings]
    shared = paths[0] if paths else ()
    for path in paths[1:]:
        while path[: len(shared)] != shared:
            shared = shared[:-1]
    texts = []
    for section in sections:
        deeper = section.headings[len(shared) :]
        texts.append(f"{' › '.join(deeper)}\n\n{section.text}" if deeper else section.text)
    return shared, "\n\n".join(texts)


def _split(text: str, limits: _Limits) -> list[str]:
    """A long section as pieces, each repeating the last words of the one before."""
    budget = limits.maximum - limits.overlap
    units = _units(text, limits)
    groups = _pack(
        [unit.words for unit in units], limits.target - limits.overlap, budget, limits.minimum
    )
    pieces: list[str] = []
    for number, group in enumerate(groups):
        members = [units[index] for index in group]
        body = members[0].text + "".join(unit.glue + unit.text for unit in members[1:])
        if number:
            previous = [units[index] for index in groups[number - 1]]
            room = min(limits.overlap, max(0, limits.maximum - _words(body)))
            if overlap := _overlap(previous, room):
                body = overlap + members[0].glue + body
        pieces.append(body)
    return pieces


def _units(text: str, limits: _Limits) -> list[_Unit]:
    units: list[_Unit] = []
    for is_code, lines in split_fences(text):
        if is_code:
            units.extend(_code_units(lines, limits))
            continue
        for paragraph in "\n".join(lines).split("\n\n"):
            if paragraph.strip():
                units.extend(_prose_units(paragraph.strip("\n"), limits, "\n\n"))
    return units


def _prose_units(text: str, limits: _Limits, glue: str) -> list[_Unit]:
    """Cut prose at lines, then sentences, then words, until each piece fits a chunk."""
    if _words(text) <= limits.maximum - limits.overlap:
        return [_Unit(text, glue)]
    for parts, inner in ((text.split("\n"), "\n"), (_SENTENCE_BREAK.split(text), " ")):
        parts = [part for part in parts if part.strip()]
        if len(parts) > 1:
            return [
                unit
                for number, part in enumerate(parts)
                for unit in _prose_units(part, limits, inner if number else glue)
            ]
    words, size = text.split(), limits.target - limits.overlap
    return [
        _Unit(" ".join(words[start : start + size]), " " if start else glue)
        for start in range(0, len(words), size)
    ]


def _code_units(lines: list[str], limits: _Limits) -> list[_Unit]:
    """A code block whole, or, when longer than twice `maximum`, re-fenced line groups."""
    code, budget = "\n".join(lines), limits.maximum - limits.overlap
    if _words(code) <= 2 * limits.maximum:
        return [_Unit(code, "\n\n", code=True)]
    fence = _FENCE.match(lines[0])
    marker = fence[1] if fence else "```"
    closed = len(lines) > 1 and lines[-1].strip().startswith(marker)
    body = lines[1:-1] if closed else lines[1:]
    groups: list[list[str]] = [[]]
    for line in body:
        if groups[-1] and _words("\n".join([*groups[-1], line])) + 2 > budget:
            groups.append([])
        groups[-1].append(line)
    return [_Unit("\n".join([lines[0], *group, marker]), "\n\n", code=True) for group in groups]


def _overlap(units: list[_Unit], count: int) -> str:
    """The last `count` words of the prose that ends `units` (code is not repeated)."""
    words: list[str] = []
    for unit in reversed(units):
        if unit.code or len(words) >= count:
            break
        words = unit.text.split() + words
    return " ".join(words[-count:]) if count > 0 else ""
