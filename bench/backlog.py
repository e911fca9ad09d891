"""A backlog of pending events drained by `supportbot run --http`: time and memory.

Issue 12, goal 6: a backlog of 10,000 pending events drains with RSS <= 200 MB. The
events are written to the inbox before the bot starts (as if it had been down while
Slack kept delivering), each a distinct mention from its own asker, spread over
`--channels` channels; the fake DeepSeek answers at once (`--llm-latency`, default 0)
and the fake Slack takes every post. The bot's resident memory is read from
/proc every 0.25 s until the inbox has nothing pending; reported: the time to drain,
tickets per second, RSS at start (healthy, before the backlog is claimed), at its peak
and at the end, and what the database holds.

    .venv/bin/python -m bench.backlog --events 10000 --channels 1000
    .venv/bin/python -m bench.backlog --events 2000 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bench.burst import (
    BurstDeepSeek,
    BurstSlack,
    Threads,
    bot_starter,
    database,
    db_summary,
    free_port,
    question,
    scratch_folder,
)
from bot.events import Actor, MessagePosted, Place, Platform
from bot.pipeline.inbox import Inbox
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import InboxItem

RSS_GOAL_MB = 200.0
SEED_BATCH = 1000


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (Linux /proc); -1 when unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return -1.0


def backlog_events(count: int, channels: int) -> list[MessagePosted]:
    """`count` top-level mentions, round-robin over `channels`, each by its own asker."""
    base = int(time.time()) - 600
    events = []
    for n in range(count):
        ts = f"{base}.{n:06d}"
        user = f"U_ASKER{n:05d}"
        events.append(
            MessagePosted(
                event_id=f"EvBACKLOG{n:06d}",
                message_id=ts,
                place=Place(
                    platform=Platform.SLACK,
                    workspace_id="T_ACME",  # the fake Slack's team
                    channel_id=f"C_BACKLOG{n % channels:05d}",
                ),
                author=Actor(platform=Platform.SLACK, user_id=user, display_name=user.lower()),
                text=question(n),
                mentions_bot=True,
                posted_at=datetime.fromtimestamp(base + n / 1000, UTC),
            )
        )
    return events


async def seed(db_url: str, events: list[MessagePosted]) -> None:
    """Migrate the database and write `events` to the inbox as pending rows."""
    db = Database(db_url)
    try:
        await upgrade(db)
        inbox = Inbox(db.sessions)
        for start in range(0, len(events), SEED_BATCH):
            await asyncio.gather(*(inbox.accept(e) for e in events[start : start + SEED_BATCH]))
    finally:
        await db.dispose()


async def pending(db: Database) -> int:
    """Inbox rows not settled yet."""
    async with db.sessions() as session:
        left = await session.scalar(
            select(func.count())
            .select_from(InboxItem)
            .where(InboxItem.status.in_(("pending", "processing")))
        )
    return int(left or 0)


async def drain(args: argparse.Namespace, folder: Path) -> list[str]:
    """Seed, start the bot, sample its memory until the inbox is drained."""
    lines = []
    async with database(args.database_url, folder) as db_url:
        t0 = time.monotonic()
        await seed(db_url, backlog_events(args.events, args.channels))
        lines.append(f"seeded {args.events} pending events in {time.monotonic() - t0:.1f} s")
        threads = Threads([])  # the posts are counted, not matched to mentions
        start = bot_starter(args, db_url, free_port(), folder)
        watch = Database(db_url)
        async with (
            BurstSlack(threads) as slack,
            BurstDeepSeek(args.llm_latency) as model,
            start(slack, model) as bot,
        ):
            pid = bot.proc.pid
            began, first = time.monotonic(), rss_mb(pid)
            peak, left = first, args.events
            next_count = began
            while left and time.monotonic() - began < args.timeout:
                await asyncio.sleep(0.25)
                peak = max(peak, rss_mb(pid))
                if time.monotonic() >= next_count:
                    left, next_count = await pending(watch), time.monotonic() + 1.0
            took, last = time.monotonic() - began, rss_mb(pid)
        await watch.dispose()
        summary = await db_summary(db_url)
    drained = args.events - left
    lines += [
        f"drained {drained}/{args.events} in {took:.1f} s = {drained / took:.1f} tickets/s",
        f"RSS MB: at start {first:.0f}, peak {peak:.0f}, at the end {last:.0f}",
        f"posts to Slack: {len(slack.calls_to('chat.postMessage'))}",
        f"database: {summary}",
        f"backlog RSS peak = {peak:.0f} MB (goal <= {RSS_GOAL_MB:.0f} MB, all drained): "
        + ("PASS" if peak <= RSS_GOAL_MB and not left else "FAIL"),
    ]
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.backlog", description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--llm-latency", type=float, default=0.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--keep", action="store_true", help="keep the logs and database")
    parser.add_argument("--bot-src", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args(argv)
    args.bot_setting, args.instances = {}, 1
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when the backlog drained within the memory goal, else 1."""
    args = parse_args(argv)
    print(
        f"backlog: {args.events} pending events over {args.channels} channels, model latency "
        f"{args.llm_latency:g} s, {'PostgreSQL' if args.database_url else 'SQLite'}",
        flush=True,
    )
    with scratch_folder("backlog-", keep=args.keep) as folder:
        lines = asyncio.run(drain(args, folder))
    print("\n".join(lines))
    return 0 if lines[-1].endswith("PASS") else 1


if __name__ == "__main__":
    sys.exit(main())
