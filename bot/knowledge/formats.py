"""Parsers for the text formats docs are written in: Markdown (and MDX),
reStructuredText and plain text. Each turns text into a `Document` whose sections
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
    "parse_markdown",
    "parse_rst",
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


def _normalise(text: str) -> str:
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
    title, body = _front_matter(_normalise(text))
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

_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_DIRECTIVE = re.compile(r"^(\s*)\.\.\s+([\w:-]+)::(?:\s+(.*))?$")
_EXPLICIT = re.compile(r"^(\s*)\.\.(?:\s+(.*))?$")
_CODE_DIRECTIVES = frozenset({"code", "code-block", "sourcecode"})
_TEXT_ARGUMENT = frozenset(
    {"admonition", "attention", "caution", "danger", "error", "hint", "important", "note"}
    | {"rubric", "seealso", "sidebar", "tip", "topic", "warning"}
)
_NOISE_DIRECTIVES = frozenset(
    {"autosummary", "contents", "highlight", "image", "include", "index", "literalinclude"}
    | {"meta", "raw", "toctree"}
)
_RST_INLINE = (
    (re.compile(r":[\w:.+-]+:`~?!?([^`<]*?)\s*(?:<[^>]*>)?`"), r"\1"),  # :ref:`Text <x>`
    (re.compile(r"`([^`<]+?)\s*<[^>]*>`_{1,2}"), r"\1"),  # `Text <https://...>`_
    (re.compile(r"(?<!`)`([^`]+)`_{1,2}"), r"\1"),  # `Text`_
)


def parse_rst(text: str, *, location: str, url: str | None, fallback_title: str) -> Document:
    """Parse reStructuredText into sections at its underlined (and overlined) titles.

    Heading levels follow the order in which adornment styles first appear, as
    docutils does. Directive lines are dropped but their content kept; code
    directives and `::` literal blocks become fenced code blocks.

    Args:
        text: The file's text.
        location: Where it came from.
        url: A link a person can open, if any.
        fallback_title: The title when the file has no heading.

    Returns:
        The document, titled by its first heading.
    """
    outline = Outline()
    title: str | None = None
    styles: list[tuple[str, bool]] = []  # (character, overlined), in order of first use
    body: list[str] = []
    for style, line in _rst_lines(_normalise(text).split("\n")):
        if style is None:
            body.append(line)
            continue
        _add_rst_body(outline, body)
        body = []
        if style not in styles:
            styles.append(style)
        outline.heading(styles.index(style) + 1, line)
        title = title or line
    _add_rst_body(outline, body)
    return Document(location, title or fallback_title, outline.sections(), url=url)


def _is_adornment(line: str) -> bool:
    line = line.rstrip()
    return len(line) >= 3 and line[0] in _PUNCTUATION and line == line[0] * len(line)


def _rst_lines(lines: list[str]) -> Iterator[tuple[tuple[str, bool] | None, str]]:
    """Yield `(style, title)` for each section title and `(None, line)` for the rest."""
    index, after_title = 0, True
    while index < len(lines):
        line, rest = lines[index], lines[index + 1 : index + 3]
        starts_paragraph = after_title or index == 0 or not lines[index - 1].strip()
        if _overlined(line, rest):
            yield (line[0], True), rest[0].strip()
            index, after_title = index + 3, True
        elif starts_paragraph and _underlined(line, rest):
            yield (rest[0][0], False), line.strip()
            index, after_title = index + 2, True
        else:
            if not _is_adornment(line):  # a lone adornment is a transition: nothing to read
                yield None, line
            index, after_title = index + 1, False


def _overlined(line: str, rest: list[str]) -> bool:
    """`line` is an overline, `rest` the title and its matching underline."""
    if not _is_adornment(line) or len(rest) < 2 or rest[1].rstrip() != line.rstrip():
        return False
    return bool(rest[0].strip()) and len(line.rstrip()) >= len(rest[0].strip())


def _underlined(line: str, rest: list[str]) -> bool:
    """`line` is a title (flush left) underlined at least as long by `rest[0]`."""
    if not line[:1].strip() or _is_adornment(line) or not rest:
        return False
    return _is_adornment(rest[0]) and len(rest[0].rstrip()) >= len(line.rstrip())


def _add_rst_body(outline: Outline, lines: list[str]) -> None:
    for line, verbatim in _rst_body(lines):
        outline.add(line, verbatim=verbatim)


def _rst_body(lines: list[str]) -> Iterator[tuple[str, bool]]:
    """Body lines with directives unwrapped and literal blocks fenced: `(line, verbatim)`."""
    index = 0
    while index < len(lines):
        line = lines[index]
        block, index = _indented_block(lines, index + 1, _indent(line))
        if directive := _DIRECTIVE.match(line):
            yield from _rst_directive(directive[2].lower(), directive[3] or "", block)
        elif explicit := _EXPLICIT.match(line):
            markup = explicit[2] or ""
            if markup.startswith("["):  # a footnote: its text is worth reading
                yield _rst_inline(markup), False
                yield from _rst_body(_dedent(block))
        elif line.rstrip().endswith("::") and block:
            lead = line.rstrip()[:-2]
            if lead.strip():
                yield _rst_inline(lead if lead.endswith(" ") else lead + ":"), False
            yield from _fence(_dedent(block), "")
        else:
            yield _rst_inline(line), False
            index -= len(block)  # an ordinary line: its indented followers are read as lines


def _rst_directive(name: str, argument: str, block: list[str]) -> Iterator[tuple[str, bool]]:
    content = _dedent(block)
    while content and re.match(r"^:[\w -]+:", content[0]):
        content.pop(0)  # directive options (`:linenos:`) say nothing to a reader
    content = _dedent(content)
    if name in _CODE_DIRECTIVES:
        yield from _fence(content, argument.strip())
    elif name not in _NOISE_DIRECTIVES:
        if name in _TEXT_ARGUMENT and argument:
            yield _rst_inline(argument), False
            yield "", False
        yield from _rst_body(content)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _indented_block(lines: list[str], start: int, indent: int) -> tuple[list[str], int]:
    """The lines from `start` indented deeper than `indent` (blank lines inside included)."""
    end = start
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > indent):
        end += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end], end


def _dedent(block: list[str]) -> list[str]:
    while block and not block[0].strip():
        block = block[1:]
    depth = min((_indent(line) for line in block if line.strip()), default=0)
    return [line[depth:] for line in block]


def _fence(code: list[str], language: str) -> Iterator[tuple[str, bool]]:
    yield "", False
    for line in [f"```{language}", *code, "```"]:
        yield line, True
    yield "", False


def _rst_inline(line: str) -> str:
    for pattern, replacement in _RST_INLINE:
        line = pattern.sub(replacement, line)
    return line


# --- Plain text -----------------------------------------------------------------


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
    lines = _normalise(text).strip().split("\n")
    title, body = fallback_title, "\n".join(lines)
    if lines[0].strip() and len(lines[0].strip()) < 80:
        title = lines[0].strip()
        body = "\n".join(lines[1:]).strip("\n") or body
    sections = (Section((), body),) if body.strip() else ()
    return Document(location, title, sections, url=url)
