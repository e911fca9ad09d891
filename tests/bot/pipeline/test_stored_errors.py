"""Stored errors name the error's class and keep a scrubbed, bounded message, never a reply."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import select

from bot.events import Event, Reply
from bot.ops.redaction import Redactor
from bot.pipeline.inbox import Inbox
from bot.pipeline.worker import InboxWorker
from bot.store.db import Database
from bot.store.models import InboxItem, OutboxItem
from tests.bot.harness import mention, responder, running_app, settle
from tests.bot.pipeline.flaky import until
from tests.fakes.deepseek import FakeDeepSeek

CANARY = "CANARY-41c7-reply-text"
ANSWER = f"{CANARY}: export from Settings > Export; a person will follow up."
BOUND = 1000


class PlatformRefused(Exception):
    """What a platform SDK raises, quoting what it was sent."""


class EchoingPlatform:
    """Posts cards; refuses any text, echoing it with a contact address and a long body."""

    def __init__(self) -> None:
        self.sent: list[Reply] = []

    async def deliver(self, reply: Reply) -> str | None:
        """Refuse text replies the way a platform error that echoes its input would."""
        if reply.kind == "seen":  # a reaction: no message to refuse or to count
            return None
        text = getattr(reply, "text", None)
        if text:
            raise PlatformRefused(
                f"invalid_blocks in {text} (ask alice.smith@example.com) " + "x" * 20_000
            )
        self.sent.append(reply)
        return f"posted-{len(self.sent)}"


def _assert_scrubbed(error: str | None, *, class_name: str) -> None:
    assert error is not None
    assert class_name in error
    assert "[EMAIL]" in error
    assert "alice.smith@example.com" not in error
    assert "example.com" not in error
    assert CANARY not in error
    assert len(error) <= BOUND


async def test_a_refused_reply_stores_the_class_and_a_scrubbed_bounded_message(
    db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(answer=ANSWER)
    outlet = EchoingPlatform()
    event = mention("How do I export my data?")
    async with running_app(db, fake_deepseek, outlet, reply_max_attempts=1) as app:  # type: ignore[arg-type]
        assert await app.intake.submit(event)
        assert await settle(app, event.event_id) == "done"
    async with db.sessions() as session:
        inbox_error = await session.scalar(select(InboxItem.last_error))
        outbox_errors = (
            await session.scalars(
                select(OutboxItem.last_error).where(OutboxItem.last_error.is_not(None))
            )
        ).all()
    assert not outlet.sent  # the card and the answer are one message, and it was refused
    assert len(outbox_errors) == 1
    _assert_scrubbed(outbox_errors[0], class_name="PlatformRefused")
    assert inbox_error is None  # the event's work succeeded; only the reply failed


async def test_a_failing_handler_stores_the_class_and_a_scrubbed_bounded_message(
    db: Database,
) -> None:
    async def handler(event: Event) -> None:
        raise LookupError(f"no account for alice.smith@example.com: {CANARY} " + "y" * 50_000)

    inbox = Inbox(db.sessions, max_attempts=1, scrub=Redactor().redact)
    worker = InboxWorker(inbox, handler, poll_seconds=0.05)
    event = mention("Where is my account?")
    task = asyncio.create_task(worker.run())
    try:
        assert await inbox.accept(event)

        async def failed() -> bool:
            async with db.sessions() as session:
                return await session.scalar(select(InboxItem.status)) == "failed"

        assert await until(failed)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    async with db.sessions() as session:
        error = await session.scalar(select(InboxItem.last_error))
    assert error is not None
    assert error.startswith("LookupError: no account for [EMAIL]")
    assert "example.com" not in error
    assert len(error) <= BOUND
