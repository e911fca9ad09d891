"""The one place that wires supportbot together.

settings -> database -> ledger -> model -> triage -> writer -> outbox, inbox, intake
-> message flow and desks -> service (event kind -> handler) -> worker -> jobs.
Adapters attach their outlets to the outbox and hand events to `intake.submit()`.
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

from bot.config import Settings
from bot.desk.actions import LeadActions
from bot.desk.commands import CommandDesk
from bot.desk.home import HomeDesk
from bot.desk.leads import Leads
from bot.events import Event, Outlet, Platform
from bot.flow.answers import Writer
from bot.flow.limits import Limits
from bot.flow.messages import MessageFlow
from bot.flow.replies import ThreadReplies
from bot.flow.service import SupportService
from bot.flow.summaries import Summaries
from bot.jobs import ALL_JOBS
from bot.jobs.scheduler import JobContext, schedule
from bot.llm.client import DeepSeekClient
from bot.llm.pricing import PriceTable
from bot.llm.types import CallRecorder
from bot.ops.metrics import MeteredRecorder, Metrics
from bot.ops.redaction import Redactor
from bot.pipeline.inbox import Inbox
from bot.pipeline.intake import Intake
from bot.pipeline.outbox import Outbox
from bot.pipeline.worker import InboxWorker
from bot.store.db import Database
from bot.store.ledger import SqlCallRecorder
from bot.store.migrate import upgrade
from bot.store.models import utcnow
from bot.tickets.sla import SlaPolicy
from triage.classify import Classifier
from triage.prompts import PromptBook

__all__ = ["SupportApp", "deepseek_client"]

log = logging.getLogger(__name__)

CONSOLE_LEADS_CHANNEL = "leads"


def deepseek_client(settings: Settings, *, recorder: CallRecorder | None = None) -> DeepSeekClient:
    """The DeepSeek client the settings describe (prices from `prices_file` if set)."""
    return DeepSeekClient(
        api_key=settings.deepseek_api_key,
        base_url=settings.deepseek_base_url,
        prices=PriceTable.load(settings.prices_file),
        recorder=recorder,
        timeout=settings.llm_timeout_seconds,
        deadline=settings.llm_deadline_seconds,
        max_attempts=settings.llm_max_attempts,
        retry_after_cap=settings.llm_retry_after_cap_seconds,
    )


class SupportApp:
    """Everything a running bot needs, built from settings, with a start and a stop."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        database: Database | None = None,
        prompts: PromptBook | None = None,
        on_settled: Callable[[Event, str], None] | None = None,
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
            self.llm = deepseek_client(settings, recorder=self.recorder)
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
        self.intake = Intake(self.inbox, redact=self.redactor.redact)
        self.summaries = Summaries(
            sessions, self.writer, every_messages=settings.summary_every_messages, clock=clock
        )
        sla = SlaPolicy(
            high_minutes=settings.sla_high_minutes,
            medium_minutes=settings.sla_medium_minutes,
            low_business_days=settings.sla_low_business_days,
        )
        leads_channels = _leads_channels(settings)
        replies = ThreadReplies(
            sessions=sessions,
            outbox=self.outbox,
            writer=self.writer,
            leads_channels=leads_channels,
            human_brief=settings.human_brief,
            summaries=self.summaries,
            context_chars=settings.max_context_chars,
            clock=clock,
        )
        messages = MessageFlow(
            sessions=sessions,
            outbox=self.outbox,
            classifier=self.classifier,
            replies=replies,
            summaries=self.summaries,
            limits=self.limits,
            sla=sla,
            confidence_threshold=settings.reasoner_confidence_threshold,
            metrics=self.metrics,
            clock=clock,
        )
        desk_parts = {
            "sessions": sessions,
            "outbox": self.outbox,
            "summaries": self.summaries,
            "writer": self.writer,
            "leads": Leads.of(
                settings.lead_user_ids, [*settings.lead_role_ids, *_slack_group(settings)]
            ),
            "clock": clock,
        }
        self.service = SupportService(
            outbox=self.outbox,
            handlers={
                "message_posted": messages.on_posted,
                "message_edited": messages.on_edited,
                "message_deleted": messages.on_deleted,
                "command_invoked": CommandDesk(**desk_parts).command,
                "action_invoked": LeadActions(**desk_parts).action,
                "home_opened": HomeDesk(**desk_parts).home,
            },
        )
        self.worker = InboxWorker(
            self.inbox,
            self.service.process,
            concurrency=settings.worker_concurrency,
            on_settled=on_settled,
        )
        self.jobs = JobContext(
            sessions=sessions,
            outbox=self.outbox,
            leads_channels=leads_channels,
            sla=sla,
            sla_reminders=settings.sla_reminders,
            stale_warn_days=settings.stale_warn_days,
            stale_close_days=settings.stale_close_days,
            retention_days=settings.retention_days,
            digest_hour_utc=settings.digest_hour_utc,
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
            self._scheduler = schedule(self.jobs, ALL_JOBS)
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
