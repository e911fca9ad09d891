"""Turning text into vectors: an embedded model by default, or an OpenAI-compatible
`/embeddings` endpoint.

The default, WordLlama, ships 256-dimension weights inside its wheel, so retrieval
works on a fresh machine with no network. Every vector is L2-normalised float32, so
a dot product is the cosine similarity.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import httpx
import numpy as np

from bot import SupportbotError

__all__ = [
    "Embedder",
    "EmbeddingFailed",
    "HttpEmbedder",
    "WordLlamaEmbedder",
    "normalised",
]

log = logging.getLogger(__name__)


class EmbeddingFailed(SupportbotError):
    """Vectors could not be made (the endpoint refused or was unreachable)."""


class Embedder(Protocol):
    """Makes vectors for passages and questions."""

    name: str
    """Recorded with every stored vector: vectors of different models never mix."""

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text.

        Raises:
            EmbeddingFailed: no vectors could be made.
        """
        ...


def normalised(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


class WordLlamaEmbedder:
    """WordLlama's 256-d model, loaded from the installed package (never downloaded)."""

    name = "wordllama-l2-supercat-256"

    def __init__(self) -> None:
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            import wordllama
            from wordllama import WordLlama

            # WordLlama.load() looks for its tokenizer in a cache folder and would try
            # the network; its own package folder holds both the weights and tokenizer.
            folder = Path(wordllama.__file__).parent
            self._model = WordLlama.load(cache_dir=folder, disable_download=True)
        return self._model

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for `texts`, computed off the event loop."""
        if not texts:
            return np.zeros((0, 256), dtype=np.float32)
        return await asyncio.to_thread(self._embed, list(texts))

    def _embed(self, texts: list[str]) -> np.ndarray:
        return normalised(self._load().embed(texts))


class HttpEmbedder:
    """Any OpenAI-compatible `POST {url}/embeddings` endpoint."""

    def __init__(
        self,
        *,
        url: str,
        model: str,
        api_key: str | None = None,
        client: httpx.AsyncClient | None = None,
        batch_size: int = 64,
        timeout_seconds: float = 30.0,
    ) -> None:
        self.name = f"http:{model}"
        self._url = url.rstrip("/") + "/embeddings"
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.AsyncClient(timeout=timeout_seconds)
        self._batch_size = batch_size

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for `texts`, `batch_size` at a time."""
        rows: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            rows.extend(await self._batch(list(texts[start : start + self._batch_size])))
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return normalised(np.array(rows, dtype=np.float32))

    async def _batch(self, texts: list[str]) -> list[list[float]]:
        body = {"model": self._model, "input": texts}
        try:
            response = await self._client.post(self._url, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise EmbeddingFailed(
                f"embeddings endpoint unreachable ({type(exc).__name__})"
            ) from None
        if response.status_code != 200:
            raise EmbeddingFailed(f"embeddings endpoint answered HTTP {response.status_code}")
        try:
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            vectors = [[float(x) for x in item["embedding"]] for item in data]
        except (ValueError, KeyError, TypeError):
            raise EmbeddingFailed("embeddings endpoint sent an unreadable reply") from None
        if len(vectors) != len(texts) or len({len(v) for v in vectors}) != 1:
            raise EmbeddingFailed("embeddings endpoint sent the wrong number of vectors")
        return vectors

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
