"""What the dashboard's tests share: an aiohttp app served on 127.0.0.1 and an httpx
client pointed at it, as a browser would talk to it (no redirects followed unless asked)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import pytest
from aiohttp import web

Serve = Callable[[web.Application], Awaitable[httpx.AsyncClient]]


@asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on a free port of 127.0.0.1; yields its base URL (`http://127.0.0.1:N`)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """`client = await serve(app)`: `app` served on 127.0.0.1 and an httpx client with
    its own cookie jar, `base_url` set to it; both closed after the test."""
    async with AsyncExitStack() as stack:

        async def start(app: web.Application) -> httpx.AsyncClient:
            base = await stack.enter_async_context(served(app))
            client = httpx.AsyncClient(base_url=base, timeout=30, follow_redirects=False)
            return await stack.enter_async_context(client)

        yield start
