"""Fixtures for the Slack adapter tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.slack import FakeSlack


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A running fake Slack Web API (and Socket Mode) on 127.0.0.1."""
    async with FakeSlack() as fake:
        yield fake
