"""Parsers for the text formats docs are written in: Markdown (and MDX) and plain
text (reStructuredText is in `rst.py`). Each turns text into a `Document` whose sections
follow the headings; fenced code blocks are kept verbatim with their fences."""

from __future__ import annotations

import re
from collections.abc import Iterator
from posixpath import basename, splitext
from urllib.parse import urlsplit

from bot.knowledge.documents import Document, Section

__all__ = [
    "Outline",
    "humanise",
    "normalise",
    "parse_markdown",
    "parse_text",
    "split_fences",
    "title_from_location",
]


class Outline:
    """Collects lines into sections as headings arrive, keeping the heading path."""

    def __init__(self) -> None:
        self._path: list[tuple[int, str]] = []
        self._lines: list[str] = []
        self._sections: list[Section] = []

    def heading(self, level: int, text: str) -> None:
        """Start a section under `text`, nested below every open heading above `level`."""
        self._flush()
        while self._path and self._path[-1][0] >= level:
            self._path.pop()
        self._path.append((level, text))

    def add(self, line: str, *, verbatim: bool = False) -> None:
        """Append a line; runs of blank prose lines count as one (code is kept as is)."""
        if not verbatim:
            line = line.rstrip()
            if not line and (not self._lines or not self._lines[-1]):
                return
        self._lines.append(line)

    def sections(self) -> tuple[Section, ...]:
        """The sections with text, in document order."""
        self._flush()
        return tuple(self._sections)

    def _flush(self) -> None:
        text = "\n".join(self._lines).strip("\n")
        if text.strip():
            self._sections.append(Section(tuple(t for _, t in self._path), text))
        self._lines = []


def humanise(stem: str) -> str:
    """A file name made readable: `getting-started_guide` -> `Getting started guide`."""
    words = re.sub(r"[-_.]+", " ", stem).split()
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else stem


def title_from_location(location: str) -> str:
    """A title from a path's or URL's last segment: `.../get-started.html` -> `Get started`."""
    path = urlsplit(location).path if "://" in location else location
    stem = splitext(basename(path.rstrip("/")))[0]
    return humanise(stem) if stem else location


def normalise(text: str) -> str:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


# --- Markdown and MDX -----------------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FRONT_KEY = re.compile(r"^[\w-]+[ \t]*:")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_JSX_TAG = re.compile(r"</?[A-Z][\w.]*(?:\s[^<>]*?)?/?>|\{/\*.*?\*/\}", re.S)
_MDX_STATEMENT = re.compile(r"^(?:import|export)\s")
_REF_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S")
_INLINE_CODE = re.compile(r"(`+[^`\n]*`+)")
_LINKS = (
    (re.compile(r"!\[([^\]]*)\]\((?:[^()]|\([^)]*\))*\)"), r"\1"),
    (re.compile(r"!\[([^\]]*)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),
)
_SENTINEL = "\x00"


def parse_markdown(
    text: str, *, location: str, url: str | None, fallback_title: str, mdx: bool = False
) -> Document:
    """Parse Markdown (or MDX) into sections split at ATX headings.

    Args:
        text: The file's text.
        location: Where it came from (`guides/setup.md` or a URL).
        url: A link a person can open, if any.
        fallback_title: The title when there is neither front-matter nor a `# ` heading.
        mdx: Drop `import`/`export` statements and JSX component tags, keeping inner text.

    Returns:
        The document; its title comes from front-matter `title:`, else the first `# `.
    """
    title, body = _front_matter(normalise(text))
    outline = Outline()
    for is_code, lines in split_fences(body):
        if is_code:
            for line in lines:
                outline.add(line, verbatim=True)
            continue
        for line in _clean_markdown("\n".join(lines), mdx=mdx).split("\n"):
            match = _ATX.match(line)
            heading = (match[2] or "").strip() if match else ""
            if not match:
                outline.add(line)
            elif heading:
                outline.heading(len(match[1]), heading)
                if title is None and len(match[1]) == 1:
                    title = heading
    return Document(location, title or fallback_title, outline.sections(), url=url)


def _front_matter(text: str) -> tuple[str | None, str]:
    """The `title:` of a leading `---` block (no YAML library: only that key is read)."""
    if not text.startswith("---\n"):
        return None, text
    end = re.search(r"^(?:---|\.\.\.)[ \t]*$", text[4:], re.M)
    if end is None:
        return None, text
    block, rest = text[4 : 4 + end.start()], text[4 + end.end() :]
    keys = [line for line in block.split("\n") if line.strip()]
    if keys and not _FRONT_KEY.match(keys[0]):
        return None, text  # a horizontal rule, not front-matter
    for line in keys:
        if match := re.match(r"title[ \t]*:[ \t]*(.*)$", line):
            return _unquote(match[1].strip()) or None, rest
    return None, rest


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value.split(" #", 1)[0].strip()


def split_fences(text: str) -> Iterator[tuple[bool, list[str]]]:
    """Split text into prose and fenced code blocks (``` or ~~~, fences included).

    Yields:
        `(is_code, lines)` in order; an unclosed fence runs to the end of the text.
    """
    prose: list[str] = []
    lines = iter(text.split("\n"))
    for line in lines:
        opening = _FENCE.match(line)
        if not opening:
            prose.append(line)
            continue
        yield False, prose
        prose, code, fence = [], [line], opening[1]
        for inner in lines:
            code.append(inner)
            closing = _FENCE.match(inner)
            closes = closing and closing[1][0] == fence[0] and len(closing[1]) >= len(fence)
            if closes and not inner.strip().lstrip(fence[0]):
                break
        yield True, code
    yield False, prose


def _clean_markdown(text: str, *, mdx: bool) -> str:
    """Drop what hurts search: comments, link targets, image sources (and MDX code)."""
    text = _COMMENT.sub(_SENTINEL, text)
    if mdx:
        text = _JSX_TAG.sub(_SENTINEL, _drop_mdx_statements(text))
    kept = []
    for line in text.split("\n"):
        if _SENTINEL in line and not line.replace(_SENTINEL, "").strip():
            continue  # a line that held only a comment or a tag
        if not _REF_DEFINITION.match(line):
            kept.append(_strip_links(line.replace(_SENTINEL, "")))
    return "\n".join(kept)


def _drop_mdx_statements(text: str) -> str:
    kept, depth = [], 0
    for line in text.split("\n"):
        if depth > 0 or _MDX_STATEMENT.match(line):
            # A multi-line `export const x = {...}` ends when its brackets balance.
            depth = max(
                0, depth + sum(line.count(c) for c in "{([") - sum(line.count(c) for c in "})]")
            )
            continue
        kept.append(line)
    return "\n".join(kept)


def _strip_links(line: str) -> str:
    parts = _INLINE_CODE.split(line)
    for index in range(0, len(parts), 2):  # odd parts are `inline code`, left alone
        for pattern, replacement in _LINKS:
            parts[index] = pattern.sub(replacement, parts[index])
    return "".join(parts)


# --- reStructuredText -----------------------------------------------------------


def parse_text(text: str, *, location: str, url: str | None, fallback_title: str) -> Document:
    """Plain text as one section without headings.

    Args:
        text: The file's text.
        location: Where it came from.
        url: A link a person can open, if any.
        fallback_title: The title when the first line is too long to be one.

    Returns:
        The document, titled by its first line when that is short (< 80 characters),
        which is then not repeated in the text unless it is all there is.
    """
    lines = normalise(text).strip().split("\n")
    title, body = fallback_title, "\n".join(lines)
    if lines[0].strip() and len(lines[0].strip()) < 80:
        title = lines[0].strip()
        body = "\n".join(lines[1:]).strip("\n") or body
    sections = (Section((), body),) if body.strip() else ()
    return Document(location, title, sections, url=url)
