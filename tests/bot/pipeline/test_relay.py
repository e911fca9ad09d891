"""The outbox relay: every unsent reply is delivered, whatever became of the work that
wrote it; a busy channel's pacing never holds up another channel, and each thread is
a lane of its own."""

from __future__ import annotations

import asyncio
import contextlib
import time

from sqlalchemy import select

from bot.events import (
    CardRef,
    Notify,
    Place,
    Platform,
    PostReply,
    Reply,
    TicketCard,
    TicketStatus,
    UpdateCard,
    dump,
)
from bot.jobs.digest import run_digest
from bot.pipeline.relay import OutboxRelay, lane_of
from bot.store.db import Database
from bot.store.models import OutboxItem
from tests.bot.harness import RecordingOutlet, mention, responder, running_app, settle
from tests.fakes.deepseek import FakeDeepSeek
from tests.settle import wait_delivered

HELP = Place(platform=Platform.SLACK, workspace_id="T_ACME", channel_id="C_HELP")
CARD = TicketCard(ticket_id=7, status=TicketStatus.OPEN)


async def test_a_reply_whose_event_ran_out_of_attempts_is_still_sent(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    outlet = RecordingOutlet()
    async with running_app(db, fake_deepseek, outlet, start=False) as app:
        # The event wrote its reply, then failed for good (e.g. the process lost its
        # database half-way): nothing but the row remembers the reply.
        async with app.database.sessions.begin() as session:
            await app.outbox.add(
                session, "msg:slack:orphan:answer", PostReply(place=HELP, text="Hi")
            )
        await app.start()
        assert await wait_delivered(app) == 0
    assert outlet.texts() == ["Hi"]


async def test_the_digest_a_job_wrote_is_delivered_by_the_relay_once_a_day(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    outlet = RecordingOutlet()
    event = mention("Where do I see my invoices?")
    async with running_app(db, fake_deepseek, outlet) as app:
        await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
        before = len(outlet.sent)
        assert await run_digest(app.jobs) == 1
        assert await wait_delivered(app) == 0
        assert await run_digest(app.jobs) == 0  # once a day, however often it is run
    digests = [r for r in outlet.sent[before:] if isinstance(r, Notify)]
    assert len(digests) == 1


class SlowChannel(RecordingOutlet):
    """A platform where one channel is paced hard: each send there takes a second."""

    def __init__(self) -> None:
        super().__init__()
        self.at: dict[str, list[float]] = {}
        """Channel -> when each of its replies went out."""

    async def deliver(self, reply: Reply) -> str | None:
        channel = reply.place.channel_id  # type: ignore[union-attr]
        if channel == "C_BUSY":
            await asyncio.sleep(1.0)
        self.at.setdefault(channel, []).append(time.monotonic())
        return await super().deliver(reply)


async def test_a_paced_channel_never_holds_up_another(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    outlet = SlowChannel()
    busy = HELP.model_copy(update={"channel_id": "C_BUSY"})
    async with running_app(db, fake_deepseek, outlet, start=False) as app:
        async with app.database.sessions.begin() as session:
            for n in range(5):
                await app.outbox.add(session, f"test:busy:{n}", PostReply(place=busy, text=f"b{n}"))
            await app.outbox.add(session, "test:help:0", PostReply(place=HELP, text="h0"))
        began = time.monotonic()
        await app.start()
        assert await wait_delivered(app) == 0
    assert [r.text for r in outlet.sent if r.place.channel_id == "C_BUSY"] == [  # type: ignore[union-attr]
        "b0", "b1", "b2", "b3", "b4"
    ]  # in order  # fmt: skip
    assert outlet.at["C_HELP"][0] - began < 1.0  # not behind the busy channel's 5 s
    async with db.sessions() as session:
        statuses = set((await session.scalars(select(OutboxItem.status))).all())
    assert statuses == {"sent"}


def _row(reply: Reply) -> OutboxItem:
    return OutboxItem(platform="slack", payload=dump(reply))


def test_each_thread_is_a_lane_and_order_is_kept_within_it() -> None:
    one = HELP.model_copy(update={"thread_id": "1700000000.000100"})
    two = HELP.model_copy(update={"thread_id": "1700000000.000200"})
    first, second = (_row(PostReply(place=one, text=t)) for t in ("a", "b"))
    other = _row(PostReply(place=two, text="c"))
    top_level = _row(PostReply(place=HELP, text="d"))
    card = _row(UpdateCard(ref=CardRef(place=one, message_id="1700000000.000150"), card=CARD))
    assert lane_of(first) == lane_of(second) == lane_of(card)  # one thread: in order
    assert len({lane_of(first), lane_of(other), lane_of(top_level)}) == 3


async def test_the_relay_holds_its_round_until_the_intake_lets_it(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    # The app passes the inbox's `quiet`: a burst's acks go out before its replies.
    outlet = RecordingOutlet()
    accepts_written = asyncio.Event()
    async with running_app(db, fake_deepseek, outlet, start=False) as app:
        async with app.database.sessions.begin() as session:
            await app.outbox.add(session, "test:help:0", PostReply(place=HELP, text="h0"))
        relay = OutboxRelay(app.outbox, poll_seconds=0.05, before_round=accepts_written.wait)
        running = asyncio.create_task(relay.run())
        try:
            await asyncio.sleep(0.3)
            held = outlet.texts()
            accepts_written.set()
            for _ in range(100):
                if outlet.texts():
                    break
                await asyncio.sleep(0.02)
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
    assert held == []
    assert outlet.texts() == ["h0"]
