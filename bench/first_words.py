"""How soon the asker sees something: the 👀, then the answer's first words.

One run starts the fake Slack and a fake DeepSeek whose every call takes
`--llm-latency` seconds before its first token (5 s by default; a streamed answer
then arrives in chunks), then `supportbot run --http` with its defaults (answers
streamed) and, in the same run, the naive bolt bot (`bench/stand_ins.py`: ack, two
model calls, one post), and sends each the same burst of signed mentions. Measured
per mention, from the moment it was sent:

- first feedback: supportbot's 👀 (`reactions.add`) on it; the naive bot's first
  post in its thread (it has nothing earlier to show);
- first streamed words: supportbot's `chat.startStream` in its thread, after the
  answer's model call reached its first token (the call's arrival + the latency).

    .venv/bin/python -m bench.first_words [--mentions 50] [--channels 50] [--llm-latency 5]
        [--database-url postgresql+asyncpg://...] [--check]

Goals (issue 13): first-feedback p99 <= 1 s; first words <= first token + 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.burst import (
    BOT_TOKEN,
    DEEPSEEK_KEY,
    REF,
    ROOT,
    SIGNING_SECRET,
    BurstDeepSeek,
    BurstSlack,
    Mention,
    Threads,
    bot_env,
    burst_of,
    clean_env,
    database,
    free_port,
    running,
    scratch_folder,
    send_burst,
    stand_in_command,
    warm_up,
)
from tests.fakes.deepseek_stream import StreamShape

FEEDBACK_GOAL = 1.0  # seconds, p99
FIRST_WORDS_GOAL = 0.5  # seconds after the model's first token, p99


@dataclass
class Timings:
    """Seconds per mention (None: never seen)."""

    feedback: list[float | None]
    first_words: list[float | None]


def percentile(values: list[float | None], percent: float) -> float:
    """The nearest-rank percentile; inf when any value is missing."""
    if not values or any(v is None for v in values):
        return math.inf
    ordered = sorted(v for v in values if v is not None)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def _first_call(slack: BurstSlack, method: str, channel: str, key: str, ts: str) -> float | None:
    times = [
        c.at
        for c in slack.calls_to(method)
        if c.params.get("channel") == channel and str(c.params.get(key)) == ts
    ]
    return min(times) if times else None


def _answer_call_at(model: BurstDeepSeek, ref: str) -> float | None:
    for request in model.requests:
        body = request.json or {}
        if body.get("stream") and ref[1:] in REF.findall(str(body.get("messages"))):
            return request.at
    return None


def supportbot_timings(
    mentions: list[Mention], slack: BurstSlack, model: BurstDeepSeek, sent: float, latency: float
) -> Timings:
    """The 👀 and the first streamed words of each mention."""
    feedback: list[float | None] = []
    words: list[float | None] = []
    for m in mentions:
        seen = _first_call(slack, "reactions.add", m.channel, "timestamp", m.ts)
        feedback.append(None if seen is None else seen - sent)
        started = _first_call(slack, "chat.startStream", m.channel, "thread_ts", m.ts)
        asked = _answer_call_at(model, m.ref)
        words.append(None if started is None or asked is None else started - asked - latency)
    return Timings(feedback, words)


def naive_timings(mentions: list[Mention], slack: BurstSlack, sent: float) -> Timings:
    """The naive bot's first post in each thread: its first feedback."""
    feedback: list[float | None] = []
    for m in mentions:
        posted = _first_call(slack, "chat.postMessage", m.channel, "thread_ts", m.ts)
        feedback.append(None if posted is None else posted - sent)
    return Timings(feedback, [])


def _command(
    name: str, port: int, slack: BurstSlack, model: BurstDeepSeek, db_url: str, folder: Path
) -> tuple[list[str], dict[str, str], Path]:
    """How to start `name`: its command line, environment and working folder."""
    if name == "supportbot":
        workdir = folder / "bot"  # a folder of its own: no developer's .env is read
        workdir.mkdir(exist_ok=True)
        cmd = [sys.executable, "-m", "adapters", "run", "--http", "--port", str(port)]
        return cmd, bot_env(ROOT, slack, model, db_url), workdir
    env = clean_env(
        BURST_BOT_TOKEN=BOT_TOKEN,
        BURST_SIGNING_SECRET=SIGNING_SECRET,
        BURST_DEEPSEEK_KEY=DEEPSEEK_KEY,
        PYTHONPATH=str(ROOT),
    )
    return stand_in_command("naive", port, slack, model), env, ROOT


async def one_target(name: str, args: argparse.Namespace, folder: Path) -> Timings:
    """Fresh fakes and `name` started with them, one burst, the timings read off the fakes."""
    mentions = burst_of(args.mentions, args.channels)
    threads = Threads(mentions)
    async with BurstSlack(threads) as slack, BurstDeepSeek(args.llm_latency) as model:
        model.stream_shape = StreamShape(words_per_chunk=3, chunk_gap=0.1)
        async with database(args.database_url, folder) as db_url:
            cmd, env, workdir = _command(name, free_port(), slack, model, db_url, folder)
            port = int(cmd[cmd.index("--port") + 1])
            log = folder / f"{name}.log"
            async with running(cmd, env=env, cwd=workdir, port=port, log=log) as process:
                await warm_up(process.url)
                acks = await send_burst([process.url], mentions)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(threads.all_answered.wait(), args.timeout)
                await asyncio.sleep(0.5)  # the 👀 taken away, the last updates
    if name == "supportbot":
        return supportbot_timings(mentions, slack, model, acks.started, args.llm_latency)
    return naive_timings(mentions, slack, acks.started)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=50)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--llm-latency", type=float, default=5.0, help="seconds to first token")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--keep", action="store_true", help="keep the logs' temp folder")
    return parser.parse_args(argv)


def _ms(value: float) -> str:
    return "never" if math.isinf(value) else f"{value * 1000:,.0f} ms"


def report(bot: Timings, naive: Timings, args: argparse.Namespace) -> bool:
    """Print the table and the verdicts; True when both goals are met."""
    where = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"first words: {args.mentions} mentions over {args.channels} channels, model "
        f"first token after {args.llm_latency:g} s, {where}"
    )
    print(f"{'':28}{'p50':>12}{'p99':>12}")
    rows = [
        ("naive bot, first feedback", naive.feedback),
        ("supportbot, first feedback", bot.feedback),
        ("supportbot, first words*", bot.first_words),
    ]
    for label, values in rows:
        print(f"{label:28}{_ms(percentile(values, 50)):>12}{_ms(percentile(values, 99)):>12}")
    print("  * after the answer call's first token")
    feedback, words = percentile(bot.feedback, 99), percentile(bot.first_words, 99)
    ok_feedback, ok_words = feedback <= FEEDBACK_GOAL, words <= FIRST_WORDS_GOAL
    print(
        f"first-feedback p99 = {_ms(feedback)} (goal <= 1 s): {'PASS' if ok_feedback else 'FAIL'}"
    )
    print(
        f"first words p99 = first token + {_ms(words)} (goal <= 0.5 s): "
        f"{'PASS' if ok_words else 'FAIL'}"
    )
    return ok_feedback and ok_words


def main(argv: list[str] | None = None) -> int:
    """Run both targets; 0, or 1 with `--check` when a goal is missed."""
    args = parse_args(argv)
    with scratch_folder("first-words-", keep=args.keep) as folder:
        naive = asyncio.run(one_target("naive", args, folder))
        bot = asyncio.run(one_target("supportbot", args, folder))
    ok = report(bot, naive, args)
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
