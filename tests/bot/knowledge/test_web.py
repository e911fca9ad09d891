"""Reading websites from a real local server: sitemaps, robots.txt, limits, failures."""

from __future__ import annotations

import asyncio
import gzip
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest
from aiohttp import web

from bot.knowledge import web as kb_web
from bot.knowledge.sources import SourceError, read_source
from bot.knowledge.web import USER_AGENT, read_pages

OFFSITE = "http://example.invalid/x"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _page(title: str, heading: str, text: str) -> str:
    return (
        f"<html><head><title>{title}</title></head><body><nav>Menu</nav>"
        f"<main><h1>{heading}</h1><p>{text}</p></main></body></html>"
    )


def _urlset(*locations: str, namespace: bool = True) -> str:
    ns = ' xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"' if namespace else ""
    entries = "".join(
        f"<url><loc>{loc}</loc><lastmod>2026-01-01</lastmod></url>" for loc in locations
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset{ns}>{entries}</urlset>'


def _index(*locations: str) -> str:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locations)
    return (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</sitemapindex>"
    )


@dataclass
class Site:
    """A docs site on 127.0.0.1 that records what it was asked for."""

    base: str = ""
    robots: str | None = "User-agent: *\nDisallow: /private/\n"
    robots_status: int = 200
    paths: list[str] = field(default_factory=list)
    agents: set[str] = field(default_factory=set)
    in_flight: int = 0
    peak: int = 0

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def pages_requested(self) -> list[str]:
        return [p for p in self.paths if p.startswith(("/docs/", "/many/", "/private/"))]


def _routes(site: Site) -> web.Application:
    async def robots(_: web.Request) -> web.StreamResponse:
        if site.robots is None:
            raise web.HTTPNotFound()
        return web.Response(text=site.robots, status=site.robots_status)

    async def sitemap(_: web.Request) -> web.StreamResponse:
        return web.Response(
            text=_urlset(
                site.url("/docs/a"),
                OFFSITE,
                site.url("/private/secret"),
                site.url("/docs/broken"),
                site.url("/docs/old"),
                site.url("/docs/logo.png"),
                site.url("/docs/notes.md"),
                site.url("/docs/a#again"),
            ),
            content_type="application/xml",
        )

    async def index(_: web.Request) -> web.StreamResponse:
        return web.Response(
            text=_index(site.url("/sitemap-1.xml"), "http://example.invalid/sitemap.xml"),
            content_type="application/xml",
        )

    async def sitemap_1(_: web.Request) -> web.StreamResponse:
        text = _index(site.url("/sitemap-2.xml.gz"))  # an index inside an index
        return web.Response(text=text, content_type="text/xml")

    async def sitemap_2(_: web.Request) -> web.StreamResponse:
        body = gzip.compress(
            _urlset(site.url("/docs/a"), site.url("/docs/b"), namespace=False).encode()
        )
        return web.Response(body=body, content_type="application/gzip")

    async def sizes(_: web.Request) -> web.StreamResponse:
        pages = (site.url(f"/docs/{name}") for name in ("a", "huge", "streamed"))
        return web.Response(text=_urlset(*pages), content_type="application/xml")

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        response.enable_chunked_encoding()  # no Content-Length to go by
        await response.prepare(request)
        for _ in range(20):
            await response.write(b"<p>" + b"x" * 1000 + b"</p>")
        await response.write_eof()
        return response

    async def many(_: web.Request) -> web.StreamResponse:
        pages = [site.url(f"/many/{n}") for n in range(12)]
        return web.Response(text=_urlset(*pages), content_type="application/xml")

    async def page(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        pages = {
            "a": _page("Page A", "Alpha", "All about alpha."),
            "b": _page("Page B", "Beta", "All about beta."),
            "new": _page("New page", "Moved", "This page moved here."),
        }
        if name == "huge":
            return web.Response(text=_page("Huge", "Huge", "x" * 20_000), content_type="text/html")
        if name == "broken":
            raise web.HTTPInternalServerError()
        if name == "old":
            raise web.HTTPFound(site.url("/docs/new"))
        if name == "logo.png":
            return web.Response(body=b"\x89PNG", content_type="image/png")
        if name == "notes.md":
            return web.Response(
                text="# Notes\n\n## Shortcuts\n\nPress K.\n", content_type="text/markdown"
            )
        if name not in pages:
            raise web.HTTPNotFound()
        return web.Response(text=pages[name], content_type="text/html")

    async def slow(request: web.Request) -> web.StreamResponse:
        site.in_flight += 1
        site.peak = max(site.peak, site.in_flight)
        await asyncio.sleep(0.05)
        site.in_flight -= 1
        n = request.match_info["n"]
        return web.Response(
            text=_page(f"Page {n}", f"Heading {n}", "Text."), content_type="text/html"
        )

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        site.paths.append(request.path_qs)
        site.agents.add(request.headers.get("User-Agent", ""))
        return await handler(request)

    app = web.Application(middlewares=[record])
    app.add_routes(
        [
            web.get("/robots.txt", robots),
            web.get("/sitemap.xml", sitemap),
            web.get("/sitemap-index.xml", index),
            web.get("/sitemap-1.xml", sitemap_1),
            web.get("/sitemap-2.xml.gz", sitemap_2),
            web.get("/many.xml", many),
            web.get("/sizes.xml", sizes),
            web.get("/docs/streamed", streamed),
            web.get("/many/{n}", slow),
            web.get("/docs/{name}", page),
            web.get("/private/{name}", page),
        ]
    )
    return app


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    site = Site()
    runner = web.AppRunner(_routes(site))
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    host, port = runner.addresses[0][:2]
    site.base = f"http://{host}:{port}"
    try:
        yield site
    finally:
        await runner.cleanup()


@pytest.fixture
async def requested() -> list[str]:
    """Every URL the client tried, including ones no server could answer."""
    return []


@pytest.fixture
async def client(requested: list[str]) -> AsyncIterator[httpx.AsyncClient]:
    async def note(request: httpx.Request) -> None:
        requested.append(str(request.url))

    async with httpx.AsyncClient(trust_env=False, event_hooks={"request": [note]}) as client:
        yield client


async def test_a_sitemap_gives_its_readable_same_host_pages_in_order(
    site: Site, client: httpx.AsyncClient
) -> None:
    documents = await read_pages(site.url("/sitemap.xml"), client=client)
    assert [(d.location, d.title) for d in documents] == [
        (site.url("/docs/a"), "Page A"),
        (site.url("/docs/new"), "New page"),
        (site.url("/docs/notes.md"), "Notes"),
    ]
    assert [d.url for d in documents] == [d.location for d in documents]
    assert [(s.headings, s.text) for s in documents[0].sections] == [
        (("Alpha",), "All about alpha.")
    ]
    assert [s.headings for s in documents[2].sections] == [("Notes", "Shortcuts")]


async def test_disallowed_and_offsite_pages_are_never_requested(
    site: Site, client: httpx.AsyncClient, requested: list[str]
) -> None:
    await read_pages(site.url("/sitemap.xml"), client=client)
    assert not [p for p in site.paths if p.startswith("/private/")]
    assert not [url for url in requested if "example.invalid" in url]
    assert site.paths.count("/robots.txt") == 1
    assert site.paths.count("/docs/a") == 1  # the same page listed twice is read once


async def test_every_request_says_who_is_asking(site: Site, client: httpx.AsyncClient) -> None:
    await read_pages(site.url("/sitemap.xml"), client=client)
    assert site.agents == {USER_AGENT}


async def test_a_failing_page_is_skipped_with_a_warning_naming_it_and_its_status(
    site: Site, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.knowledge.web"):
        await read_pages(site.url("/sitemap.xml"), client=client)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(site.url("/docs/broken") in m and "500" in m for m in warnings)
    assert any(site.url("/docs/logo.png") in m and "image/png" in m for m in warnings)


async def test_nested_sitemap_indexes_are_followed_on_the_same_host_only(
    site: Site, client: httpx.AsyncClient, requested: list[str]
) -> None:
    documents = await read_pages(site.url("/sitemap-index.xml"), client=client)
    assert [d.title for d in documents] == ["Page A", "Page B"]
    assert not [url for url in requested if "example.invalid" in url]


async def test_max_pages_bounds_what_is_requested(site: Site, client: httpx.AsyncClient) -> None:
    documents = await read_pages(site.url("/many.xml"), client=client, max_pages=5)
    assert [d.title for d in documents] == [f"Page {n}" for n in range(5)]
    assert site.pages_requested() == [f"/many/{n}" for n in range(5)]


async def test_no_more_requests_than_the_concurrency_are_in_flight(
    site: Site, client: httpx.AsyncClient
) -> None:
    documents = await read_pages(site.url("/many.xml"), client=client, concurrency=3)
    assert len(documents) == 12
    assert site.peak == 3


async def test_one_page_is_read_and_located_after_its_redirect(
    site: Site, client: httpx.AsyncClient
) -> None:
    [document] = await read_pages(site.url("/docs/old"), client=client)
    assert (document.location, document.url) == (site.url("/docs/new"), site.url("/docs/new"))
    assert document.title == "New page"


async def test_the_url_given_failing_is_a_source_error(
    site: Site, client: httpx.AsyncClient
) -> None:
    with pytest.raises(SourceError) as caught:
        await read_pages(site.url("/docs/missing"), client=client)
    assert str(caught.value) == f"cannot read {site.url('/docs/missing')}: HTTP 404"


async def test_the_url_given_being_neither_html_nor_a_sitemap_is_a_source_error(
    site: Site, client: httpx.AsyncClient
) -> None:
    with pytest.raises(SourceError, match=r"not HTML or a sitemap \(image/png\)"):
        await read_pages(site.url("/docs/logo.png"), client=client)


async def test_the_url_given_being_disallowed_is_a_source_error_without_a_request(
    site: Site, client: httpx.AsyncClient
) -> None:
    with pytest.raises(SourceError, match=r"disallowed by robots\.txt"):
        await read_pages(site.url("/private/secret"), client=client)
    assert site.paths == ["/robots.txt"]


async def test_an_unreachable_server_is_a_source_error(client: httpx.AsyncClient) -> None:
    from tests.net import free_port

    url = f"http://127.0.0.1:{free_port()}/docs"
    with pytest.raises(SourceError, match=rf"^cannot read {url}: ConnectError"):
        await read_pages(url, client=client)


async def test_without_robots_txt_everything_is_allowed(
    site: Site, client: httpx.AsyncClient
) -> None:
    site.robots = None
    documents = await read_pages(site.url("/sitemap.xml"), client=client)
    assert "/private/secret" in site.paths
    assert len(documents) == 3  # the private page exists only as a 404


async def test_a_failing_robots_txt_allows_everything_and_is_logged(
    site: Site, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    site.robots_status = 503
    with caplog.at_level(logging.WARNING, logger="bot.knowledge.web"):
        await read_pages(site.url("/sitemap.xml"), client=client)
    assert "/private/secret" in site.paths
    assert any("robots.txt" in r.getMessage() and "503" in r.getMessage() for r in caplog.records)


async def test_a_page_larger_than_the_limit_is_skipped(
    site: Site,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(kb_web, "MAX_PAGE_BYTES", 10_000)
    with caplog.at_level(logging.WARNING, logger="bot.knowledge.web"):
        documents = await read_pages(site.url("/sizes.xml"), client=client)
    assert [d.title for d in documents] == ["Page A"]
    warnings = [r.getMessage() for r in caplog.records]
    for name in ("huge", "streamed"):
        assert any(site.url(f"/docs/{name} ") in m and "larger than" in m for m in warnings)


async def test_read_source_reads_urls_with_the_client_given(
    site: Site, client: httpx.AsyncClient
) -> None:
    documents = await read_source(site.url("/sitemap.xml"), client=client, max_pages=1)
    assert [d.title for d in documents] == ["Page A"]


async def test_read_source_opens_its_own_client_when_none_is_given(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    [document] = await read_source(site.url("/docs/b"))
    assert document.title == "Page B"
