"""Fixtures for the Discord adapter tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.discord import FakeDiscord


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A running fake Discord (REST and gateway) on 127.0.0.1."""
    async with FakeDiscord() as fake:
        yield fake
