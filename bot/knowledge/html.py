"""HTML pages (files or web pages) to documents, with the standard library's parser.

Only what a reader came for is kept: page chrome (navigation, headers, footers,
sidebars, forms, scripts) is dropped, and when the page marks its content with
`<main>` or `<article>`, nothing outside it is read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from html.parser import HTMLParser

from bot.knowledge.documents import Document
from bot.knowledge.formats import Outline, title_from_location

__all__ = ["parse_html"]

log = logging.getLogger(__name__)

_SKIPPED = frozenset(
    {"aside", "button", "canvas", "footer", "form", "header", "iframe", "nav", "noscript"}
    | {"object", "script", "select", "style", "svg", "template"}
)
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_BLOCKS = frozenset(
    {"article", "blockquote", "body", "caption", "dd", "details", "div", "dl", "dt"}
    | {"figcaption", "figure", "hr", "li", "main", "ol", "p", "pre", "section", "summary"}
    | {"table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"}
    | set(_HEADINGS)
)
_CONTENT = frozenset({"main", "article"})


@dataclass(frozen=True)
class _Item:
    kind: str  # "heading", "text" or "code"
    text: str
    level: int
    in_content: bool  # inside <main> or <article>


def parse_html(
    html: str, *, location: str, url: str | None, fallback_title: str | None = None
) -> Document:
    """Parse an HTML page into sections under its h1-h6 heading path.

    Paragraph-like elements (p, li, td, dd, blockquote...) become paragraphs, list
    items prefixed with `- `; `<pre>` becomes a fenced code block kept verbatim.

    Args:
        html: The page's markup.
        location: The file's relative path or the page's URL.
        url: A link a person can open, if any.
        fallback_title: The title when the page has neither `<title>` nor `<h1>`;
            by default the location's last segment, humanised.

    Returns:
        The document, titled by `<title>`, else its first `<h1>`.
    """
    parser = _PageParser()
    try:
        parser.feed(html)
        parser.close()
    except AssertionError:  # _markupbase's verdict on broken declarations: keep what was read
        log.warning("kb.html.malformed location=%s", location)
    parser.flush()
    items = parser.items
    if any(item.in_content for item in items):
        items = [item for item in items if item.in_content]
    outline = Outline()
    for item in items:
        if item.kind == "heading":
            outline.heading(item.level, item.text)
            continue
        for line in item.text.split("\n"):
            outline.add(line, verbatim=item.kind == "code")
        outline.add("")
    first_h1 = next((i.text for i in items if i.kind == "heading" and i.level == 1), None)
    title = parser.title or first_h1 or fallback_title or title_from_location(location)
    return Document(location, title, outline.sections(), url=url)


class _PageParser(HTMLParser):
    """Turns parser events into a flat list of headings, paragraphs and code blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.items: list[_Item] = []
        self._skipping: list[str] = []
        self._content_depth = 0
        self._words: list[str] = []
        self._prefix = ""
        self._heading = 0
        self._in_title = False
        self._pre_depth = 0
        self._code: list[str] = []
        self._language = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skipping or tag in _SKIPPED:
            if tag in _SKIPPED:
                self._skipping.append(tag)
            return
        if self._pre_depth:
            self._start_in_pre(tag, attrs)
            return
        if tag == "title":
            self._in_title = not self.title
        elif tag == "br":
            self._words.append(" ")
        if tag in _BLOCKS:
            self.flush()
        if tag in _CONTENT:
            self._content_depth += 1
        elif tag == "li":
            self._prefix = "- "
        elif tag in _HEADINGS:
            self._heading = _HEADINGS[tag]
        elif tag == "pre":
            self._pre_depth, self._code, self._language = 1, [], _language(attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            if tag in self._skipping:
                while self._skipping.pop() != tag:
                    pass
            return
        if self._pre_depth:
            if tag == "pre":
                self._pre_depth -= 1
                if not self._pre_depth:
                    self._emit_code()
            return
        if tag == "title":
            self._in_title = False
        if tag in _BLOCKS:
            self.flush()
        if tag in _CONTENT and self._content_depth:
            self._content_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._pre_depth:
            self._code.append(data)
        elif self._in_title:
            self.title = " ".join(f"{self.title} {data}".split())
        else:
            self._words.append(data)

    def flush(self) -> None:
        """Close the paragraph or heading being read."""
        text = " ".join("".join(self._words).split())
        self._words = []
        if not text:
            return  # keep a pending `- ` or heading for the text still to come
        if self._heading:
            self._add("heading", text, self._heading)
            self._heading = 0
        else:
            self._add("text", self._prefix + text)
        self._prefix = ""

    def _start_in_pre(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            self._pre_depth += 1
        elif tag == "br":
            self._code.append("\n")
        elif tag == "code" and not self._language:
            self._language = _language(attrs)

    def _emit_code(self) -> None:
        code = "".join(self._code)
        code = code[1:] if code.startswith("\n") else code  # as browsers do after <pre>
        code = code.rstrip()
        if not code.strip():
            return
        fence = "```"
        while fence in code:
            fence += "`"
        self._add("code", f"{fence}{self._language}\n{code}\n{fence}")

    def _add(self, kind: str, text: str, level: int = 0) -> None:
        self.items.append(_Item(kind, text, level, self._content_depth > 0))


def _language(attrs: list[tuple[str, str | None]]) -> str:
    """`python` from `class="language-python"` (or `lang-python`), else nothing."""
    for name, value in attrs:
        if name == "class" and value:
            for token in value.split():
                for prefix in ("language-", "lang-"):
                    if token.startswith(prefix):
                        return token.removeprefix(prefix)
    return ""
