"""Vectors from an OpenAI-compatible endpoint (a real local fake) and from the embedded
model; a failing endpoint costs vectors, never documents; the settings that name it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select

from bot import ConfigError
from bot.config import load_settings
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.embeddings import EmbeddingFailed, HttpEmbedder, WordLlamaEmbedder
from bot.knowledge.fulltext import full_text_for
from bot.store.db import Database
from bot.store.kb_tables import KbChunk
from tests.bot.knowledge.conftest import write_docs
from tests.fakes.embeddings import FakeEmbeddings, vector_for

KEY = "sk-CANARY-embed-5e6f7a8b9c"
TEXTS = ["How do I get a refund?", "Where are my invoices?", "Reset my password"]


@pytest.fixture
async def fake() -> AsyncIterator[FakeEmbeddings]:
    async with FakeEmbeddings() as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


def _embedder(
    fake: FakeEmbeddings,
    client: httpx.AsyncClient,
    *,
    api_key: str | None = KEY,
    batch_size: int = 64,
) -> HttpEmbedder:
    return HttpEmbedder(
        url=fake.base_url,
        model="text-embedding-3-small",
        api_key=api_key,
        client=client,
        batch_size=batch_size,
    )


def _unit(vector: list[float]) -> np.ndarray:
    row = np.array(vector, dtype=np.float32)
    return row / np.linalg.norm(row)


async def test_vectors_are_normalised_and_in_input_order_however_the_server_lists_them(
    fake: FakeEmbeddings, client: httpx.AsyncClient
) -> None:
    fake.shuffle = True
    vectors = await _embedder(fake, client).embed(TEXTS)
    assert vectors.shape == (3, 8)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    for row, text in zip(vectors, TEXTS, strict=True):
        np.testing.assert_allclose(row, _unit(vector_for(text)), rtol=1e-5)


async def test_texts_go_in_batches_with_the_model_and_the_key_as_bearer(
    fake: FakeEmbeddings, client: httpx.AsyncClient
) -> None:
    texts = [f"passage {i}" for i in range(5)]
    vectors = await _embedder(fake, client, batch_size=2).embed(texts)
    assert [r.body["input"] for r in fake.requests] == [texts[0:2], texts[2:4], texts[4:]]
    assert {r.body["model"] for r in fake.requests} == {"text-embedding-3-small"}
    assert {r.authorization for r in fake.requests} == {f"Bearer {KEY}"}
    np.testing.assert_allclose(vectors[4], _unit(vector_for("passage 4")), rtol=1e-5)


async def test_without_a_key_no_authorization_header_is_sent(
    fake: FakeEmbeddings, client: httpx.AsyncClient
) -> None:
    await _embedder(fake, client, api_key=None).embed(["hello"])
    assert [r.authorization for r in fake.requests] == [None]


@pytest.mark.parametrize("status", [500, 401])
async def test_a_refusal_names_the_status_but_never_the_key_or_the_texts(
    fake: FakeEmbeddings, client: httpx.AsyncClient, status: int
) -> None:
    fake.status = status
    with pytest.raises(EmbeddingFailed) as caught:
        await _embedder(fake, client).embed(TEXTS)
    message = str(caught.value)
    assert str(status) in message
    assert KEY not in message
    assert not any(text in message for text in TEXTS)


@pytest.mark.parametrize(
    ("garbage", "drop"),
    [("<html>Bad gateway</html>", 0), ('{"object": "list"}', 0), (None, 1)],
    ids=["not-json", "no-data", "one-vector-short"],
)
async def test_an_unreadable_or_short_reply_fails_without_echoing_secrets(
    fake: FakeEmbeddings, client: httpx.AsyncClient, garbage: str | None, drop: int
) -> None:
    fake.garbage, fake.drop = garbage, drop
    with pytest.raises(EmbeddingFailed) as caught:
        await _embedder(fake, client).embed(TEXTS)
    message = str(caught.value)
    assert "embeddings endpoint" in message
    assert KEY not in message
    assert not any(text in message for text in TEXTS)


async def test_an_unreachable_endpoint_fails_without_echoing_secrets(
    client: httpx.AsyncClient,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    embedder = HttpEmbedder(
        url=f"http://127.0.0.1:{port}/v1", model="m", api_key=KEY, client=client
    )
    with pytest.raises(EmbeddingFailed) as caught:
        await embedder.embed(TEXTS)
    message = str(caught.value)
    assert "unreachable" in message
    assert KEY not in message
    assert not any(text in message for text in TEXTS)


async def test_the_embedded_model_gives_unit_256d_vectors_closer_for_related_texts(
    embedder: WordLlamaEmbedder,
) -> None:
    question, answer, unrelated = await embedder.embed(
        [
            "Can I get my money back on a yearly subscription?",
            "Annual plans can be refunded within 30 days of purchase.",
            "Install the desktop client and sign in with your workspace address.",
        ]
    )
    assert question.shape == (256,)
    for vector in (question, answer, unrelated):
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    assert float(question @ answer) > float(question @ unrelated)
    assert (await embedder.embed([])).shape == (0, 256)


async def test_a_failing_endpoint_loses_no_documents_they_are_found_by_full_text(
    fake: FakeEmbeddings, client: httpx.AsyncClient, db: Database, tmp_path: Path
) -> None:
    fake.status = 503
    knowledge = KnowledgeBase(
        sessions=db.sessions,
        full_text=full_text_for(db.is_postgres),
        embedder=_embedder(fake, client),
    )
    root = write_docs(
        tmp_path / "docs",
        {
            "billing.md": "# Billing\n\n## Refunds\n\nAnnual plans can be refunded within 30 "
            "days of purchase. Monthly plans are not refunded.\n",
            "account.md": "# Account\n\nUse the Forgot password link; the reset email "
            "expires after one hour.\n",
        },
    )
    report = await knowledge.add(str(root))
    assert sorted(report.added) == ["account.md", "billing.md"]
    assert report.chunks >= 2
    assert report.without_vectors == report.chunks
    assert "without vectors (full-text only)" in report.line()
    async with db.sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(KbChunk))
        with_vectors = await session.scalar(
            select(func.count()).select_from(KbChunk).where(KbChunk.embedding.is_not(None))
        )
    assert (stored, with_vectors) == (report.chunks, 0)
    assert fake.requests  # it was asked, and refused
    hits = await knowledge.search(["are annual plans refunded?"])
    assert hits[0].location == "billing.md"
    assert "refunded within 30 days" in hits[0].text


async def test_refresh_gives_vectors_to_chunks_stored_while_the_endpoint_was_down(
    fake: FakeEmbeddings, client: httpx.AsyncClient, db: Database, tmp_path: Path
) -> None:
    knowledge = KnowledgeBase(
        sessions=db.sessions,
        full_text=full_text_for(db.is_postgres),
        embedder=_embedder(fake, client),
    )
    root = write_docs(tmp_path / "docs", {"billing.md": "# Billing\n\nRefunds within 30 days.\n"})
    fake.status = 503
    assert (await knowledge.add(str(root))).without_vectors >= 1
    fake.status = 200
    await knowledge.refresh()
    async with db.sessions() as session:
        without = await session.scalar(
            select(func.count()).select_from(KbChunk).where(KbChunk.embedding.is_(None))
        )
    assert without == 0


def test_an_embeddings_url_that_is_not_http_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.delenv("SUPPORTBOT_EMBEDDINGS_URL", raising=False)
    with pytest.raises(ConfigError) as caught:
        load_settings(embeddings_url="ftp://x")
    assert "SUPPORTBOT_EMBEDDINGS_URL: expected an http" in str(caught.value)
    assert "ftp://x" not in str(caught.value)


def test_the_embeddings_api_key_is_masked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUPPORTBOT_EMBEDDINGS_API_KEY", KEY)
    settings = load_settings()
    assert settings.knowledge.embeddings_api_key is not None
    assert settings.knowledge.embeddings_api_key.get_secret_value() == KEY
    shown = settings.masked()
    assert shown["SUPPORTBOT_EMBEDDINGS_API_KEY"] == "********  (set)"
    assert KEY not in str(shown)
    assert KEY not in repr(settings)
