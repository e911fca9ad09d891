"""Model calls over one aiohttp connection pool.

Measured against the local fake DeepSeek (2,000 streamed calls, 256 in flight), httpx
spent about 1.3 ms of CPU a call and aiohttp about 0.14 ms. A ticket makes two calls,
and under a burst the bot's CPU, not the model, sets the pace (`bench/burst.py`). The
model's replies come back as `Reply` (a plain body) or `StreamReply` (lines read as they
arrive), so the client above never touches the HTTP library's own types.
"""

from __future__ import annotations

import contextlib
import urllib.request
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

__all__ = ["TRANSPORT_ERRORS", "ModelHttp", "Reply", "StreamReply"]

TRANSPORT_ERRORS: tuple[type[Exception], ...] = (aiohttp.ClientError,)
"""What a failed connection, a reset or a broken body raises (timeouts aside)."""


@dataclass(frozen=True)
class Reply:
    """A whole HTTP reply."""

    status: int
    headers: Mapping[str, str]
    text: str


class StreamReply:
    """An HTTP reply whose body is read line by line as it arrives."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status: int = response.status
        self.headers: Mapping[str, str] = response.headers

    async def lines(self) -> AsyncIterator[str]:
        """The body's lines, without their line ends."""
        try:
            async for raw in self._response.content:
                yield raw.decode("utf-8", errors="replace").rstrip("\r\n")
        except ValueError as exc:  # aiohttp's reader refuses a line over its limit
            raise aiohttp.ClientPayloadError("a line of the event stream is too long") from exc

    async def text(self) -> str:
        """The rest of the body (an error reply's)."""
        return (await self._response.read()).decode("utf-8", errors="replace")


class ModelHttp:
    """One aiohttp session for model calls, opened on first use (inside the loop)."""

    def __init__(self, concurrency: int, *, timeout: float) -> None:
        self._limit = concurrency
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # TLS verified against the system's CA store (SSL_CERT_FILE overrides it).
            connector = aiohttp.TCPConnector(limit=self._limit, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    def proxy_for(self, url: str) -> str | None:
        """HTTPS_PROXY / HTTP_PROXY for `url`'s host unless NO_PROXY spares it, read
        once per host (aiohttp's `trust_env` reads the environment, and ~/.netrc, in a
        thread on every request)."""
        parsed = urlsplit(url)
        where = (parsed.scheme, parsed.hostname or "")
        if where not in self._proxies:
            found = urllib.request.getproxies_environment()
            proxy = found.get(parsed.scheme)
            if proxy and urllib.request.proxy_bypass_environment(where[1], found):
                proxy = None
            self._proxies[where] = proxy
        return self._proxies[where]

    @staticmethod
    def _timeouts(seconds: float) -> aiohttp.ClientTimeout:
        # Per connect and per read; the caller bounds the whole attempt on its own.
        return aiohttp.ClientTimeout(total=None, sock_connect=seconds, sock_read=seconds)

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        read_seconds: float,
        json: Any = None,
    ) -> Reply:
        """Send one request and read its whole reply; `read_seconds` bounds the connect
        and each read."""
        streamed = self.stream(method, url, headers=headers, read_seconds=read_seconds, json=json)
        async with streamed as reply:
            return Reply(reply.status, reply.headers, await reply.text())

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        read_seconds: float,
        json: Any = None,
    ) -> AsyncIterator[StreamReply]:
        """Send one request; the reply's body is read by the caller, line by line."""
        async with self._open().request(
            method,
            url,
            json=json,
            headers=headers,
            timeout=self._timeouts(read_seconds),
            proxy=self.proxy_for(url),
        ) as response:
            yield StreamReply(response)

    async def aclose(self) -> None:
        """Close the session's connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None
