"""A fake OpenAI-compatible embeddings API: a real aiohttp server on 127.0.0.1.

Each text's vector is `vector_for(text)`: deterministic, not normalised (the client
must do that). An error body quotes the key and the inputs, as careless servers do, so
a client that passes it on to the operator is caught.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

__all__ = ["FakeEmbeddings", "Received", "vector_for"]


def vector_for(text: str, dimensions: int = 8) -> list[float]:
    """The vector the fake gives `text`: its SHA-256 bytes, centred on zero."""
    return [b - 127.5 for b in hashlib.sha256(text.encode()).digest()[:dimensions]]


@dataclass(frozen=True)
class Received:
    """One request: its JSON body and Authorization header (None when absent)."""

    body: Any
    authorization: str | None


class FakeEmbeddings:
    """Serves `POST /v1/embeddings`; `base_url` ends in `/v1`. Use `async with`."""

    def __init__(self, *, dimensions: int = 8) -> None:
        self.dimensions = dimensions
        self.status = 200  # any other: that status with an OpenAI-style error body
        self.garbage: str | None = None  # answer 200 with this text instead of JSON
        self.shuffle = False  # list `data` in reverse order (clients must sort by index)
        self.drop = 0  # leave the last N vectors out
        self.requests: list[Received] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeEmbeddings:
        app = web.Application()
        app.router.add_post("/v1/embeddings", self._embeddings)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}/v1"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        auth = request.headers.get("Authorization")
        self.requests.append(Received(body, auth))
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        if self.status != 200:
            message = f"refused {auth} for {texts}"
            error = {"message": message, "type": "invalid_request_error", "code": None}
            return web.json_response({"error": error}, status=self.status)
        if self.garbage is not None:
            return web.Response(text=self.garbage, content_type="application/json")
        data = [
            {"object": "embedding", "index": i, "embedding": vector_for(t, self.dimensions)}
            for i, t in enumerate(texts[: len(texts) - self.drop])
        ]
        tokens = sum(len(t.split()) for t in texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        data = data[::-1] if self.shuffle else data
        reply = {"object": "list", "data": data, "model": body["model"], "usage": usage}
        return web.json_response(reply)
