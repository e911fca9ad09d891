"""Reading a knowledge-base source: a folder or file of docs, or a website.

A folder is read recursively in sorted order; hidden files and folders and files of
other types are skipped. Each file becomes a `Document` located by its path relative
to the folder given, linked under `base_url` the way docs sites publish pages.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import httpx

from bot import SupportbotError
from bot.knowledge.documents import Document, Section
from bot.knowledge.formats import humanise, parse_markdown, parse_text
from bot.knowledge.html import parse_html
from bot.knowledge.rst import parse_rst

__all__ = [
    "SUPPORTED_SUFFIXES",
    "SourceError",
    "doc_url",
    "is_empty",
    "parse_html",
    "read_file",
    "read_path",
    "read_source",
]

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = frozenset(
    {".md", ".mdx", ".markdown", ".rst", ".txt", ".html", ".htm", ".pdf"}
)
"""The file types read from a folder; anything else there is skipped."""


class SourceError(SupportbotError):
    """A source that cannot be read; the message names the path or URL and why."""


Parser = Callable[..., Document]

_TEXT_PARSERS: dict[str, Parser] = {
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".mdx": partial(parse_markdown, mdx=True),
    ".rst": parse_rst,
    ".txt": parse_text,
    ".html": parse_html,
    ".htm": parse_html,
}


async def read_source(
    location: str,
    *,
    base_url: str | None = None,
    max_pages: int = 200,
    client: httpx.AsyncClient | None = None,
) -> list[Document]:
    """Read a website (`http://`, `https://`) or a local file or folder.

    Args:
        location: A URL (a page or a sitemap), or a path (`~` is expanded).
        base_url: Where the files are published, to link each document; paths only.
        max_pages: At most this many pages from a website.
        client: The HTTP client for websites; one is opened and closed if not given.

    Returns:
        The documents that have text, in a stable order.

    Raises:
        SourceError: The location does not exist or cannot be read.
    """
    from bot.knowledge.web import read_pages  # web imports this module

    if location.lower().startswith(("http://", "https://")):
        if client is not None:
            return await read_pages(location, client=client, max_pages=max_pages)
        async with httpx.AsyncClient() as own:
            return await read_pages(location, client=own, max_pages=max_pages)
    # Files are read in a thread: a large folder of PDFs must not stall the bot.
    return await asyncio.to_thread(read_path, Path(location), base_url=base_url)


def read_path(path: Path, *, base_url: str | None = None) -> list[Document]:
    """Read a folder (recursively) or a single file into documents.

    A file in a folder that cannot be read is skipped with a warning, so one broken
    PDF does not stop the rest; a single file that cannot be read raises.

    Args:
        path: A folder or a file (`~` is expanded).
        base_url: Where the files are published; see `doc_url`.

    Returns:
        One document per file with text, sorted by relative path.

    Raises:
        SourceError: The path does not exist, or the single file given cannot be read.
    """
    path = path.expanduser()
    if path.is_file():
        document = read_file(path, path.name, base_url=base_url)
        return [] if is_empty(document) else [document]
    if not path.is_dir():
        raise SourceError(f"no such file or folder: {path}")
    documents = []
    for relative in _listing(path):
        try:
            document = read_file(path / relative, relative, base_url=base_url)
        except SourceError as exc:
            log.warning("kb.file.skipped reason=%s", exc)
            continue
        if is_empty(document):
            log.info("kb.file.empty path=%s", relative)
        else:
            documents.append(document)
    return documents


def read_file(path: Path, location: str, *, base_url: str | None = None) -> Document:
    """Parse one file by its suffix.

    Args:
        path: The file.
        location: How the document is located (its path relative to the folder read).
        base_url: Where the files are published; see `doc_url`.

    Raises:
        SourceError: The type is not supported, or the file cannot be read.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise SourceError(f"{path}: unsupported file type {suffix or '(none)'}")
    url = doc_url(base_url, location) if base_url else None
    fallback = humanise(path.stem)
    if suffix == ".pdf":
        return _read_pdf(path, location=location, url=url, fallback_title=fallback)
    parse = _TEXT_PARSERS[suffix]
    return parse(_read_text(path), location=location, url=url, fallback_title=fallback)


def doc_url(base_url: str, relative: str) -> str:
    """The page a docs site publishes a file as: the suffix dropped, `index` as its folder.

    `guides/setup.md` -> `{base_url}/guides/setup`; `guides/index.md` -> `{base_url}/guides/`.
    """
    stem = PurePosixPath(relative).with_suffix("")
    if stem.name != "index":
        page = str(stem)
    else:
        page = "" if stem.parent == PurePosixPath(".") else f"{stem.parent}/"
    return f"{base_url.rstrip('/')}/{quote(page, safe='/')}"


def is_empty(document: Document) -> bool:
    """Whether a document has no text worth indexing."""
    return not any(section.text.strip() for section in document.sections)


def _listing(folder: Path) -> list[str]:
    """Supported, visible files under `folder` as sorted POSIX paths relative to it."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            relative = (Path(root) / name).relative_to(folder).as_posix()
            if Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(relative)
            else:
                log.debug("kb.file.unsupported path=%s", relative)
    return sorted(found)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror or type(exc).__name__})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        log.warning("kb.file.not_utf8 path=%s", path)
        return data.decode("utf-8", errors="replace")


def _read_pdf(path: Path, *, location: str, url: str | None, fallback_title: str) -> Document:
    """One section per page with text, headed `Page N`."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            reader.decrypt("")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or ""
    except Exception as exc:  # pypdf raises many types for damaged files; all mean "unreadable"
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise SourceError(f"{path}: not a readable PDF ({reason})") from None
    sections = tuple(
        Section((f"Page {number}",), text.strip())
        for number, text in enumerate(pages, start=1)
        if text.strip()
    )
    first_line = sections[0].text.split("\n", 1)[0].strip() if sections else ""
    title = title.strip() or (first_line if 0 < len(first_line) < 80 else fallback_title)
    return Document(location, title, sections, url=url)
