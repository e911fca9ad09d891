"""The burst through Discord: N mentions as gateway MESSAGE_CREATEs, time to all answered.

Issue 12, goal 7: there is no ack on Discord, but the time until every mention is
answered meets goal 2 (≤ 2.5 L). `supportbot run` connects to the tests' FakeDiscord
(gateway and REST on 127.0.0.1) with a fake DeepSeek answering each call after L
seconds. Once the bot is ready, N mentions of the bot by N different members are
dispatched in the support channel, back to back without waiting for each to be
processed; a mention is answered when a message carrying its `BURST-ANSWER qNNNN` is
posted in its thread (a thread started from the mention has the mention's id). Run
through `python -m bench.burst --platform discord`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.burst import (
    ANSWER_REF,
    BurstDeepSeek,
    clean_env,
    cpu_seconds,
    database,
    db_summary,
    question,
    summarize_log,
)
from tests.fakes import discord_payloads as dp
from tests.fakes.discord import FakeDiscord

__all__ = ["run_discord"]

THREAD_POST = re.compile(r"/channels/(\d+)/messages")
FIRST_ID = 930_000_000_000_000_000


def _mention(n: int) -> dict[str, Any]:
    """MESSAGE_CREATE `d` for the n-th mention, by member 6000 + n."""
    body = dp.message_create(
        f"<@{dp.BOT_USER_ID}> {question(n)}",
        message_id=FIRST_ID + n,
        channel_id=300,
        mentions=[dp.BOT_USER_ID],
    )
    body["author"] = dp.user(6000 + n, f"asker{n}")
    return body


def _answered(fake: FakeDiscord, count: int) -> tuple[int, float | None]:
    """How many mentions have their own answer in their thread, and when the last came."""
    done, last = set(), None
    for call in fake.calls_to("POST", r"/channels/\d+/messages"):
        thread = int(THREAD_POST.fullmatch(call.path).group(1))  # type: ignore[union-attr]
        n = thread - FIRST_ID
        text = str((call.json or {}).get("content") or "")
        embeds = (call.json or {}).get("embeds") or []
        text += " ".join(str(e.get("description") or "") for e in embeds)
        found = ANSWER_REF.search(text)
        if 0 <= n < count and found and found.group(1) == f"q{n:04d}" and n not in done:
            done.add(n)
            last = call.at
    return len(done), last


@contextlib.asynccontextmanager
async def _running(
    cmd: list[str], env: dict[str, str], cwd: Path, log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=cwd, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def run_discord(args: Any, folder: Path) -> list[str]:
    """The Discord burst; its report lines, the last one the goal."""
    workdir = folder / "bot"
    workdir.mkdir(exist_ok=True)
    log = folder / "supportbot.log"
    async with database(args.database_url, folder) as db_url:
        async with FakeDiscord() as fake, BurstDeepSeek(args.llm_latency) as model:
            env = clean_env(
                PYTHONPATH=str(args.bot_src),
                DISCORD_BOT_TOKEN=fake.token,
                DISCORD_API_URL=fake.api_base,
                DISCORD_GATEWAY_URL=fake.gateway_url,
                DEEPSEEK_API_KEY=model.api_key,
                DEEPSEEK_BASE_URL=model.base_url,
                DATABASE_URL=db_url,
                SUPPORTBOT_LOG_FORMAT="json",
                **args.bot_setting,
            )
            cmd = [sys.executable, "-m", "adapters", "run"]
            async with _running(cmd, env, workdir, log) as proc:
                await fake.wait_ready(timeout=60)
                cpu_before, began = cpu_seconds(proc.pid), time.monotonic()
                for n in range(args.mentions):
                    await fake.dispatch("MESSAGE_CREATE", _mention(n), wait=False)
                deadline = began + args.timeout
                count, last = 0, None
                while time.monotonic() < deadline:
                    count, last = _answered(fake, args.mentions)
                    if count == args.mentions:
                        break
                    await asyncio.sleep(0.1)
                cpu = cpu_seconds(proc.pid) - cpu_before
                posts = len(fake.calls_to("POST", r"/channels/\d+/messages"))
        summary = await db_summary(db_url)
    took = (last - began) if last is not None and count == args.mentions else None
    shown = f"{took:.2f} s" if took is not None else f"{count}/{args.mentions} answered"
    ratio = took / args.llm_latency if took is not None and args.llm_latency else None
    verdict = "PASS" if ratio is not None and ratio <= 2.5 else "FAIL"
    return [
        f"supportbot (discord): all answered {shown}; posts {posts} "
        f"({posts / max(args.mentions, 1):.2f}/ticket); CPU {cpu:.1f} s",
        f"  log: {summarize_log(log)}",
        f"  database: {summary}",
        f"supportbot (discord) all answered / L = {shown} / {args.llm_latency:g} s = "
        + (f"{ratio:.2f}" if ratio is not None else "inf")
        + f" (goal <= 2.5): {verdict}",
    ]
