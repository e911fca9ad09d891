"""`supportbot doctor` against DeepSeek and against a gateway in front of it."""

from __future__ import annotations

from bot.config import load_settings
from bot.ops.doctor import check_deepseek
from tests.conftest import FAKE_KEY
from tests.fakes.deepseek import FakeDeepSeek


async def test_a_gateway_without_a_balance_endpoint_is_not_a_failure(
    fake_deepseek: FakeDeepSeek,
) -> None:
    # An OpenAI-compatible gateway (LiteLLM and the like) serves /v1/models and
    # /v1/chat/completions, but has no DeepSeek /user/balance: it answers 404.
    gateway = f"{fake_deepseek.base_url}/v1"
    settings = load_settings(deepseek_api_key=FAKE_KEY, deepseek_base_url=gateway)
    checks = {check.name: check for check in await check_deepseek(settings)}
    assert checks["deepseek model deepseek-chat"].ok is True
    assert checks["deepseek model deepseek-reasoner"].ok is True
    balance = checks["deepseek balance"]
    assert balance.ok is None
    assert balance.detail == "not available through this endpoint"
    assert [r.path for r in fake_deepseek.requests] == ["/v1/models", "/v1/user/balance"]


async def test_the_balance_is_checked_where_the_endpoint_has_one(
    fake_deepseek: FakeDeepSeek,
) -> None:
    fake_deepseek.balance_available = False
    settings = load_settings(deepseek_api_key=FAKE_KEY, deepseek_base_url=fake_deepseek.base_url)
    checks = {check.name: check for check in await check_deepseek(settings)}
    assert checks["deepseek balance"].ok is False
    assert "cannot pay" in checks["deepseek balance"].detail
