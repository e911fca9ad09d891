"""The one place that wires supportbot together.

settings -> database -> ledger -> DeepSeek client -> triage -> writer -> outbox,
inbox -> command desks -> service -> worker. Adapters attach their outlets to the
outbox and hand events to `service.submit()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Self

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.actions import LeadActions
from bot.answers import Writer
from bot.commands import CommandDesk
from bot.config import Settings
from bot.events import Platform
from bot.home import HomeDesk
from bot.inbox import Inbox, InboxWorker
from bot.jobs import JobContext, schedule
from bot.limits import Limits
from bot.llm.client import DeepSeekClient
from bot.llm.pricing import PriceTable
from bot.metrics import MeteredRecorder, Metrics
from bot.outbox import Outbox, Outlet
from bot.privacy import Redactor
from bot.replies import ThreadReplies
from bot.service import ServiceOptions, SupportService
from bot.store.db import Database
from bot.store.ledger import SqlCallRecorder
from bot.store.migrate import upgrade
from bot.store.models import utcnow
from bot.summaries import Summaries
from triage.classify import Classifier
from triage.prompts import PromptBook

__all__ = ["SupportApp"]

log = logging.getLogger(__name__)

CONSOLE_LEADS_CHANNEL = "leads"


class SupportApp:
    """Everything a running bot needs, built from settings, with a start and a stop."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        database: Database | None = None,
        prompts: PromptBook | None = None,
    ) -> None:
        self.settings = settings
        self.database = database or Database(settings.database_url)
        sessions = self.database.sessions
        self.metrics = Metrics()
        self.redactor = Redactor(
            enabled=settings.redaction, extra_patterns=settings.redaction_patterns
        )
        self.recorder = MeteredRecorder(SqlCallRecorder(sessions), self.metrics)
        self.llm: DeepSeekClient | None = None
        if settings.deepseek_api_key is not None:
            self.llm = DeepSeekClient.from_settings(
                settings, recorder=self.recorder, prices=PriceTable.load(settings.prices_file)
            )
        self.limits = Limits(
            sessions,
            daily_budget_usd=settings.daily_budget_usd,
            user_messages_per_minute=settings.user_messages_per_minute,
            clock=clock,
        )
        self.prompts = prompts or PromptBook()
        self.classifier = Classifier(
            llm=self.llm,
            model=settings.triage_model,
            prompts=self.prompts,
            max_tokens=settings.triage_max_tokens,
            max_input_chars=settings.max_message_chars,
            gate=self.limits,
        )
        self.writer = Writer(
            llm=self.llm,
            prompts=self.prompts,
            chat_model=settings.triage_model,
            reasoner_model=settings.reasoner_model,
            max_tokens=settings.answer_max_tokens,
            max_input_chars=settings.max_context_chars,
            gate=self.limits,
        )
        self.outbox = Outbox(sessions, send_lease_seconds=settings.outbox_lease_seconds)
        self.inbox = Inbox(
            sessions,
            lease_seconds=settings.inbox_lease_seconds,
            max_attempts=settings.inbox_max_attempts,
            retry_base_seconds=settings.inbox_retry_base_seconds,
            clock=clock,
            metrics=self.metrics,
        )
        self.summaries = Summaries(
            sessions, self.writer, every_messages=settings.summary_every_messages, clock=clock
        )
        desk_parts = {
            "sessions": sessions,
            "outbox": self.outbox,
            "summaries": self.summaries,
            "writer": self.writer,
            "lead_user_ids": settings.lead_user_ids,
            "lead_role_ids": [*settings.lead_role_ids, *_slack_group(settings)],
            "clock": clock,
        }
        self.service = SupportService(
            sessions=sessions,
            inbox=self.inbox,
            outbox=self.outbox,
            classifier=self.classifier,
            replies=ThreadReplies(
                sessions=sessions,
                outbox=self.outbox,
                writer=self.writer,
                leads_channels=_leads_channels(settings),
                human_brief=settings.human_brief,
                summaries=self.summaries,
                context_chars=settings.max_context_chars,
                clock=clock,
            ),
            commands=CommandDesk(**desk_parts),
            actions=LeadActions(**desk_parts),
            home=HomeDesk(**desk_parts),
            summaries=self.summaries,
            limits=self.limits,
            options=_options(settings),
            redactor=self.redactor,
            metrics=self.metrics,
            clock=clock,
        )
        self.worker = InboxWorker(
            self.inbox, self.service.process, concurrency=settings.worker_concurrency
        )
        self.jobs = JobContext(
            sessions=sessions,
            outbox=self.outbox,
            leads_channels=_leads_channels(settings),
            sla_minutes={
                "high": settings.sla_high_minutes,
                "medium": settings.sla_medium_minutes,
                "low": settings.sla_low_business_days * 24 * 60,
            },
            sla_reminders=settings.sla_reminders,
            stale_warn_days=settings.stale_warn_days,
            stale_close_days=settings.stale_close_days,
            retention_days=settings.retention_days,
            clock=clock,
        )
        self._scheduler: AsyncIOScheduler | None = None
        self._worker_task: asyncio.Task[None] | None = None

    @property
    def offline(self) -> bool:
        """True when no API key is set and triage runs on the offline rules."""
        return self.llm is None

    def attach(self, platform: Platform, outlet: Outlet) -> None:
        """Let an adapter deliver the replies for its platform."""
        self.outbox.attach(platform, outlet)

    async def start(self, *, with_jobs: bool = False) -> None:
        """Migrate the database, start draining the inbox (pending rows included) and,
        when asked, the periodic jobs."""
        await upgrade(self.database)
        self._worker_task = asyncio.create_task(self.worker.run(), name="inbox-worker")
        if with_jobs:
            self._scheduler = schedule(self.jobs, digest_hour_utc=self.settings.digest_hour_utc)
            self._scheduler.start()
        log.info("app.started offline=%s", self.offline)

    async def stop(self) -> None:
        """Stop the worker (unfinished rows go back to the inbox) and close connections."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._worker_task is not None:
            self._worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker_task
            self._worker_task = None
        if self.llm is not None:
            await self.llm.aclose()
        await self.database.dispose()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def _slack_group(settings: Settings) -> list[str]:
    # Slack's lead user group arrives on actors as a role; count it as a lead role.
    return [settings.slack_lead_usergroup_id] if settings.slack_lead_usergroup_id else []


def _per_workspace(platform: Platform, value: str) -> dict[str, str]:
    """`C1` (every workspace) or `G1:C1,G2:C2` (one channel per guild) -> lookup keys."""
    found: dict[str, str] = {}
    for part in (p.strip() for p in value.split(",") if p.strip()):
        workspace, _, channel = part.rpartition(":")
        found[f"{platform.value}:{workspace}" if workspace else platform.value] = channel
    return found


def _leads_channels(settings: Settings) -> dict[str, str]:
    channels = {Platform.CONSOLE.value: CONSOLE_LEADS_CHANNEL}
    if settings.slack_leads_channel:
        channels[Platform.SLACK.value] = settings.slack_leads_channel
    if settings.discord_leads_channel:
        channels.update(_per_workspace(Platform.DISCORD, settings.discord_leads_channel))
    return channels


def _options(settings: Settings) -> ServiceOptions:
    return ServiceOptions(
        confidence_threshold=settings.reasoner_confidence_threshold,
        sla_high_minutes=settings.sla_high_minutes,
        sla_medium_minutes=settings.sla_medium_minutes,
        sla_low_business_days=settings.sla_low_business_days,
    )
