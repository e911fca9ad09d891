"""reStructuredText: headings are a line over- and/or underlined with punctuation,
nested in the order their styles first appear; directives' content is kept, code
directives and literal blocks become fenced blocks."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.knowledge.documents import Document
from bot.knowledge.formats import Outline, normalise

__all__ = ["parse_rst"]

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
    for style, line in _rst_lines(normalise(text).split("\n")):
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
