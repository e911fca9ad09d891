"""Reading a website: one page, or the pages its sitemap lists.

Polite by construction: only pages on the host given are read, robots.txt is
honoured for the `supportbot` agent, a few requests at a time, and a page that
fails is skipped (logged by URL and status, never by content).
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser
from xml.etree import ElementTree

import httpx

from bot.knowledge.documents import Document
from bot.knowledge.formats import parse_markdown, parse_text, title_from_location
from bot.knowledge.sources import SourceError, is_empty, parse_html

__all__ = ["MAX_PAGE_BYTES", "ROBOTS_AGENT", "USER_AGENT", "read_pages"]

log = logging.getLogger(__name__)

USER_AGENT = "supportbot-kb/1 (+https://github.com/supportbot)"
ROBOTS_AGENT = "supportbot"
"""The name robots.txt rules are matched against."""
MAX_PAGE_BYTES = 5 * 1024 * 1024
TIMEOUT_SECONDS = 15.0
SITEMAP_DEPTH = 3
"""How many sitemap indexes deep to follow; deeper ones are a loop or a mistake."""
MAX_CRAWL_DELAY_SECONDS = 30.0
_HTML = frozenset({"text/html", "application/xhtml+xml"})
_MARKDOWN = frozenset({"text/markdown", "text/x-markdown"})


async def read_pages(
    url: str,
    *,
    client: httpx.AsyncClient,
    max_pages: int = 200,
    concurrency: int = 4,
    delay_seconds: float = 0.0,
) -> list[Document]:
    """Read one page, or every page a sitemap (or sitemap index) at `url` lists.

    Args:
        url: A page or a sitemap.
        client: The HTTP client (redirects, timeout and User-Agent are set per request).
        max_pages: At most this many pages from a sitemap.
        concurrency: At most this many requests at a time.
        delay_seconds: A pause after each request, per request slot; a longer
            `Crawl-delay` in robots.txt wins (up to 30 s).

    Returns:
        The pages with text, located by their final URL, in sitemap order.

    Raises:
        SourceError: `url` itself is disallowed, fails, or is neither HTML nor a sitemap.
    """
    fetcher = _Fetcher(client, concurrency)
    crawl = await _Crawl.start(fetcher, _origin(url), max_pages)
    fetcher.delay = max(delay_seconds, crawl.crawl_delay)
    if not crawl.allowed(url):
        raise SourceError(f"cannot read {url}: disallowed by robots.txt")
    try:
        first = await fetcher.get(url)
    except _PageError as exc:
        raise SourceError(f"cannot read {url}: {exc.reason}") from None
    sitemap = _sitemap_root(first)
    if sitemap is None:
        document = _document(first)
        if document is None:
            raise SourceError(f"cannot read {url}: not HTML or a sitemap ({first.media_type})")
        return [] if is_empty(document) else [document]
    if _origin(first.url) != crawl.origin:  # e.g. http -> https: the site lives there
        crawl = await _Crawl.start(fetcher, _origin(first.url), max_pages)
        fetcher.delay = max(delay_seconds, crawl.crawl_delay)
    await crawl.collect(sitemap, first.url, depth=0)
    documents = await asyncio.gather(*(crawl.read(page) for page in crawl.pages))
    unique = {document.location: document for document in documents if document}
    return list(unique.values())


@dataclass(frozen=True)
class _Page:
    url: str
    """The final URL, after redirects."""
    status: int
    media_type: str
    charset: str | None
    body: bytes

    @property
    def text(self) -> str:
        try:
            return self.body.decode(self.charset or "utf-8", errors="replace")
        except LookupError:  # an unknown charset name: UTF-8 is the likeliest truth
            return self.body.decode("utf-8", errors="replace")


class _PageError(Exception):
    def __init__(self, status: int | None, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class _Fetcher:
    """GET with a bound on requests in flight and a pause after each."""

    def __init__(self, client: httpx.AsyncClient, concurrency: int) -> None:
        self._client = client
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self.delay = 0.0

    async def get(self, url: str) -> _Page:
        async with self._slots:
            try:
                return await self._get(url)
            finally:
                if self.delay:
                    await asyncio.sleep(self.delay)

    async def _get(self, url: str) -> _Page:
        try:
            async with self._client.stream(
                "GET",
                url,
                headers={"User-Agent": USER_AGENT},
                timeout=TIMEOUT_SECONDS,
                follow_redirects=True,
            ) as response:
                if response.status_code >= 400:
                    raise _PageError(response.status_code, f"HTTP {response.status_code}")
                body = await _limited_body(response)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _PageError(None, _reason(exc)) from None
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        charset = response.charset_encoding
        return _Page(str(response.url), response.status_code, media_type, charset, body)


async def _limited_body(response: httpx.Response) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_PAGE_BYTES:
        raise _PageError(response.status_code, f"larger than {MAX_PAGE_BYTES} bytes")
    body = bytearray()
    async for piece in response.aiter_bytes():
        body += piece
        if len(body) > MAX_PAGE_BYTES:
            raise _PageError(response.status_code, f"larger than {MAX_PAGE_BYTES} bytes")
    return bytes(body)


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Crawl:
    """The pages a sitemap lists that may be read, and reading them."""

    def __init__(self, fetcher: _Fetcher, robots: RobotFileParser, origin: str, limit: int) -> None:
        self.fetcher, self.robots, self.origin, self.limit = fetcher, robots, origin, limit
        self.pages: list[str] = []
        self._sitemaps: set[str] = set()

    @classmethod
    async def start(cls, fetcher: _Fetcher, origin: str, limit: int) -> _Crawl:
        """A crawl of `origin` under the rules of its robots.txt."""
        return cls(fetcher, await _robots(fetcher, origin), origin, limit)

    @property
    def crawl_delay(self) -> float:
        """The pause robots.txt asks of us, within reason."""
        delay = float(self.robots.crawl_delay(ROBOTS_AGENT) or 0)
        return min(delay, MAX_CRAWL_DELAY_SECONDS)

    def allowed(self, url: str) -> bool:
        if _origin(url) != self.origin:
            log.debug("kb.page.offsite url=%s", url)
            return False
        if not self.robots.can_fetch(ROBOTS_AGENT, url):
            log.info("kb.page.disallowed url=%s", url)
            return False
        return True

    async def collect(self, root: ElementTree.Element, base: str, *, depth: int) -> None:
        """Add the pages `root` lists, following nested sitemaps depth-first."""
        is_index = _local_name(root.tag) == "sitemapindex"
        for loc in _locations(root, base):
            if len(self.pages) >= self.limit:
                return
            if loc in self.pages or loc in self._sitemaps or not self.allowed(loc):
                continue
            if not is_index:
                self.pages.append(loc)
            elif depth < SITEMAP_DEPTH:
                self._sitemaps.add(loc)
                child = await self._sitemap(loc)
                if child is not None:
                    await self.collect(child, loc, depth=depth + 1)

    async def read(self, url: str) -> Document | None:
        """The page as a document, or None (logged) when it cannot be used."""
        try:
            page = await self.fetcher.get(url)
        except _PageError as exc:
            return _skipped(url, exc.status, exc.reason)
        if page.url != url and not self.allowed(page.url):
            return _skipped(url, page.status, f"redirected to {page.url}")
        document = _document(page)
        if document is None:
            return _skipped(url, page.status, f"not a page ({page.media_type or 'no type'})")
        return None if is_empty(document) else document

    async def _sitemap(self, url: str) -> ElementTree.Element | None:
        try:
            root = _sitemap_root(await self.fetcher.get(url))
        except _PageError as exc:
            log.warning(
                "kb.sitemap.skipped url=%s status=%s reason=%s", url, exc.status, exc.reason
            )
            return None
        if root is None:
            log.warning("kb.sitemap.skipped url=%s reason=not a sitemap", url)
        return root


def _skipped(url: str, status: int | None, reason: str) -> None:
    log.warning("kb.page.skipped url=%s status=%s reason=%s", url, status, reason)


async def _robots(fetcher: _Fetcher, origin: str) -> RobotFileParser:
    """The host's robots.txt; when missing or unreadable, everything is allowed."""
    robots, url = RobotFileParser(), f"{origin}/robots.txt"
    try:
        lines = (await fetcher.get(url)).text.splitlines()
    except _PageError as exc:
        if exc.status not in (404, 410):
            log.warning(
                "kb.robots.unreadable url=%s status=%s reason=%s", url, exc.status, exc.reason
            )
        lines = []
    robots.parse(lines)
    return robots


def _sitemap_root(page: _Page) -> ElementTree.Element | None:
    body = page.body
    if body[:2] == b"\x1f\x8b":  # sitemap.xml.gz, served as a file rather than encoded
        try:
            body = zlib.decompressobj(wbits=31).decompress(body, MAX_PAGE_BYTES)
        except zlib.error:
            return None
    head = body.lstrip()[:200]
    if not (head.startswith(b"<?xml") or b"urlset" in head or b"sitemapindex" in head):
        return None
    try:
        # Expat neither fetches external entities nor expands them without bound, and
        # the body is capped at 5 MB, so a hostile sitemap cannot do much harm.
        root = ElementTree.fromstring(body)  # noqa: S314
    except ElementTree.ParseError:
        return None
    return root if _local_name(root.tag) in ("urlset", "sitemapindex") else None


def _locations(root: ElementTree.Element, base: str) -> list[str]:
    """The `<loc>` of each `<url>` or `<sitemap>` entry, whatever the namespace."""
    found = []
    for entry in root:
        for child in entry:
            if _local_name(child.tag) == "loc" and child.text and child.text.strip():
                found.append(urldefrag(urljoin(base, child.text.strip())).url)
    return found


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _origin(url: str) -> str:
    """`scheme://host:port`, with the default port made explicit; empty if unusable."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return ""
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


def _document(page: _Page) -> Document | None:
    """Parse by media type: HTML, Markdown or plain text; anything else is None."""
    if page.media_type in _HTML:
        return parse_html(page.text, location=page.url, url=page.url)
    path = urlsplit(page.url).path.lower()
    fallback = title_from_location(page.url)
    if page.media_type in _MARKDOWN or (
        page.media_type == "text/plain" and path.endswith((".md", ".markdown"))
    ):
        return parse_markdown(page.text, location=page.url, url=page.url, fallback_title=fallback)
    if page.media_type == "text/plain":
        return parse_text(page.text, location=page.url, url=page.url, fallback_title=fallback)
    return None
