"""A game studio's own taxonomy, end to end on the terminal channel (`supportbot chat`).

The prompt is generated from the configuration and byte-stable across runs; a verdict
in the custom taxonomy is accepted; one outside it is corrected once; offline, the
categories' keywords decide.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.bot.harness import triage_json, triage_requests
from tests.cli_runner import Outcome, clean_env, run_cli
from tests.conftest import FAKE_KEY
from tests.fakes.deepseek import FakeDeepSeek

GAME_STUDIO = """
[product]
name = "Starfall Arena"
description = "an online multiplayer space shooter for PC and consoles"
tone = "upbeat and short"
rules = ["Never promise a patch date."]

[[categories]]
name = "crash"
description = "the game crashes, freezes or will not start"
keywords = ["crash", "crashes", "freezes", "black screen", "won't launch"]
examples = ["Game closes itself when I load the hangar"]

[[categories]]
name = "matchmaking"
description = "finding matches, queues, lobbies, lag and disconnects in a match"
keywords = ["queue", "matchmaking", "lobby", "disconnected", "lag"]

[[categories]]
name = "purchases"
description = "store purchases, credits, skins, refunds and missing items"
keywords = ["credits", "skin", "purchase", "bought", "refund"]
formerly = ["billing"]

[[categories]]
name = "other"
description = "anything else"
"""


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "starfall.toml"
    path.write_text(GAME_STUDIO, encoding="utf-8")
    return path


def _env(fake: FakeDeepSeek | None = None) -> dict[str, str]:
    if fake is None:
        return clean_env()
    return clean_env(DEEPSEEK_API_KEY=FAKE_KEY, DEEPSEEK_BASE_URL=fake.base_url)


async def _tickets(tmp_path: Path, config: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    listing = await run_cli("--config", str(config), "tickets", "--json", cwd=tmp_path, env=env)
    assert listing.code == 0, listing.stderr
    return json.loads(listing.stdout)


async def _chat(tmp_path: Path, config: Path, env: dict[str, str], stdin: str) -> Outcome:
    """`supportbot --config CONFIG chat` with `stdin` typed in."""
    return await run_cli("--config", str(config), "chat", cwd=tmp_path, env=env, stdin=stdin)


def _system_prompt(body: dict[str, Any]) -> str:
    return body["messages"][0]["content"]


async def test_the_custom_taxonomy_reaches_the_model_and_its_verdict_is_kept(
    tmp_path: Path, fake_deepseek: FakeDeepSeek
) -> None:
    config = _config(tmp_path)
    fake_deepseek.reply(triage_json(category="matchmaking", urgency="medium"))
    fake_deepseek.reply("Try restarting the queue from the main menu.")
    outcome = await _chat(
        tmp_path,
        config,
        _env(fake_deepseek),
        "I've been stuck in the ranked queue for 40 minutes\n/quit\n",
    )
    assert outcome.code == 0, outcome.stderr
    (ticket,) = await _tickets(tmp_path, config, _env(fake_deepseek))
    assert ticket["category"] == "matchmaking"
    (triage,) = triage_requests(fake_deepseek)
    prompt = _system_prompt(triage)
    assert "Starfall Arena" in prompt
    for name in ("crash", "matchmaking", "purchases", "other"):
        assert f'"{name}"' in prompt
    assert "feature_request" not in prompt  # the default taxonomy is gone
    # The product's rule is in the answer prompt the model was given.
    answer = next(b for b in fake_deepseek.chat_requests if not b.get("response_format"))
    assert "Never promise a patch date." in _system_prompt(answer)


async def test_the_generated_prompt_is_the_same_bytes_on_every_run(
    tmp_path: Path, fake_deepseek: FakeDeepSeek
) -> None:
    config = _config(tmp_path)
    for _ in range(2):  # two processes, each generating the prompt afresh
        fake_deepseek.reply(triage_json(category="crash", urgency="high", needs_human=True))
        outcome = await _chat(
            tmp_path, config, _env(fake_deepseek), "The game crashes to desktop on launch\n/quit\n"
        )
        assert outcome.code == 0, outcome.stderr
    first, second = (_system_prompt(b) for b in triage_requests(fake_deepseek))
    assert first.encode() == second.encode()


async def test_a_verdict_outside_the_taxonomy_is_corrected_once(
    tmp_path: Path, fake_deepseek: FakeDeepSeek
) -> None:
    config = _config(tmp_path)
    fake_deepseek.reply(triage_json(category="feature_request", urgency="low"))
    fake_deepseek.reply(triage_json(category="purchases", urgency="medium", needs_human=True))
    outcome = await _chat(
        tmp_path,
        config,
        _env(fake_deepseek),
        "I bought the Nebula skin but it's not in my locker\n/quit\n",
    )
    assert outcome.code == 0, outcome.stderr
    _, correction = triage_requests(fake_deepseek)
    asked = correction["messages"][-1]["content"]
    assert "feature_request" in asked  # the error quoted back names the wrong value
    assert "purchases" in asked  # and the values allowed
    (ticket,) = await _tickets(tmp_path, config, _env(fake_deepseek))
    assert ticket["category"] == "purchases"


async def test_offline_the_categories_keywords_decide(tmp_path: Path) -> None:
    config = _config(tmp_path)
    outcome = await _chat(
        tmp_path, config, _env(), "my game freezes on a black screen after the intro\n/quit\n"
    )
    assert outcome.code == 0, outcome.stderr
    assert "crash" in outcome.stdout  # on the card
    (ticket,) = await _tickets(tmp_path, config, _env())
    assert (ticket["category"], ticket["route"]) == ("crash", "human")
