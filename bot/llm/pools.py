"""Model calls spread over several small httpx connection pools.

httpcore 1.0's pool re-examines every connection for every waiting request each time
a request starts or ends (encode/httpcore#1035, still open for 1.0.9): with hundreds
of model calls in flight that is milliseconds of CPU per call, and the bot, not the
model, becomes the bottleneck. Small pools, each call taking the least busy one, keep
that cost flat however many calls are in flight.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

__all__ = ["POOL_CONNECTIONS", "SpreadPools"]

POOL_CONNECTIONS = 16
"""Connections per pool: small enough that a pool's bookkeeping stays cheap."""


class SpreadPools:
    """Enough `POOL_CONNECTIONS`-connection httpx clients for `concurrency` calls."""

    def __init__(self, concurrency: int, *, timeout: float) -> None:
        count = max(1, math.ceil(concurrency / POOL_CONNECTIONS))
        size = min(concurrency, POOL_CONNECTIONS)
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        tls = httpx.create_ssl_context()  # one for all: each costs ~30 ms to build
        self._clients = [
            httpx.AsyncClient(timeout=timeout, limits=limits, verify=tls) for _ in range(count)
        ]
        self._busy = [0] * count

    @property
    def size(self) -> int:
        """How many pools there are."""
        return len(self._clients)

    async def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        """`httpx.AsyncClient.request` on the pool with the fewest calls in flight."""
        with self._least_busy() as client:
            return await client.request(method, url, **options)

    @contextlib.asynccontextmanager
    async def stream(self, method: str, url: str, **options: Any) -> AsyncIterator[httpx.Response]:
        """`httpx.AsyncClient.stream` on the least busy pool; busy until the body is read."""
        with self._least_busy() as client:
            async with client.stream(method, url, **options) as response:
                yield response

    @contextlib.contextmanager
    def _least_busy(self) -> Iterator[httpx.AsyncClient]:
        index = min(range(len(self._busy)), key=self._busy.__getitem__)
        self._busy[index] += 1
        try:
            yield self._clients[index]
        finally:
            self._busy[index] -= 1

    async def aclose(self) -> None:
        """Close every pool's connections."""
        for client in self._clients:
            await client.aclose()
