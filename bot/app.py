"""The one place that wires supportbot together.

settings -> database -> ledger -> model -> triage -> writer -> outbox, inbox, intake
-> message flow and desks -> service (event kind -> handler) -> worker -> jobs.
Adapters attach their outlets to the outbox and hand events to `intake.submit()`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Self

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text

from bot.config import LeadsSettings, Settings
from bot.config.playbook import Playbooks
from bot.desk.actions import LeadActions
from bot.desk.commands import CommandDesk
from bot.desk.home import HomeDesk
from bot.desk.leads import Leads
from bot.desk.requester import RequesterActions, route_presses
from bot.desk.saved_answers import SavedAnswers
from bot.events import Event, Place, Platform
from bot.flow.answers import Writer
from bot.flow.grounding import Grounding
from bot.flow.limits import Limits
from bot.flow.live import LiveAnswers
from bot.flow.messages import MessageFlow
from bot.flow.replies import ThreadReplies
from bot.flow.service import SupportService
from bot.flow.summaries import Summaries
from bot.jobs import ALL_JOBS
from bot.jobs.scheduler import JobContext, schedule
from bot.knowledge.base import knowledge_base
from bot.llm.client import DeepSeekClient
from bot.llm.pricing import PriceTable
from bot.llm.types import CallRecorder
from bot.ops.metrics import MeteredRecorder, Metrics
from bot.ops.redaction import Redactor
from bot.pipeline.inbox import Inbox
from bot.pipeline.intake import Intake
from bot.pipeline.outbox import Outbox
from bot.pipeline.ports import Outlet, Streams
from bot.pipeline.relay import OutboxRelay
from bot.pipeline.worker import InboxWorker
from bot.reports.outcomes import outcome_reader
from bot.store.db import Database
from bot.store.ledger import SqlCallRecorder
from bot.store.logins import LoginLinks
from bot.store.migrate import upgrade
from bot.store.models import utcnow
from bot.tickets.leads_channels import LeadsChannels
from bot.tickets.queries import find_ticket
from bot.tickets.sla import SlaPolicy
from triage.classify import Classifier
from triage.prompts import PromptBook

__all__ = ["SupportApp", "deepseek_client"]

log = logging.getLogger(__name__)

CONSOLE_LEADS_CHANNEL = "leads"
REPLIES_YIELD_SECONDS = 0.25
"""The most the relay's next round waits for accepts being written (acks go first)."""


def deepseek_client(settings: Settings, *, recorder: CallRecorder | None = None) -> DeepSeekClient:
    """The DeepSeek client the settings describe (prices from `prices_file` if set)."""
    return DeepSeekClient(
        api_key=settings.llm.api_key,
        base_url=settings.llm.base_url,
        prices=PriceTable.load(settings.llm.prices_file),
        recorder=recorder,
        timeout=settings.llm.timeout_seconds,
        deadline=settings.llm.deadline_seconds,
        max_attempts=settings.llm.max_attempts,
        retry_after_cap=settings.llm.retry_after_cap_seconds,
        concurrency=settings.llm.concurrency,
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
        stop_grace_seconds: float = 10.0,
    ) -> None:
        self.settings = settings
        self.database = database or Database(settings.storage.database_url)
        sessions = self.database.sessions
        self.metrics = Metrics(outcomes=outcome_reader(clock))
        self.redactor = Redactor(
            enabled=settings.privacy.redaction, extra_patterns=settings.privacy.redaction_patterns
        )
        self.recorder = MeteredRecorder(SqlCallRecorder(sessions), self.metrics)
        self.llm: DeepSeekClient | None = None
        if settings.llm.api_key is not None:
            self.llm = deepseek_client(settings, recorder=self.recorder)
        self.limits = Limits(
            sessions,
            daily_budget_usd=settings.privacy.daily_budget_usd,
            user_messages_per_minute=settings.privacy.user_messages_per_minute,
            clock=clock,
        )
        self.prompts = prompts or PromptBook()
        self.classifier = Classifier(
            llm=self.llm,
            model=settings.llm.triage_model,
            prompts=self.prompts,
            max_tokens=settings.llm.triage_max_tokens,
            max_input_chars=settings.llm.max_message_chars,
            gate=self.limits,
            playbooks=settings.playbooks,
        )
        self.writer = Writer(
            llm=self.llm,
            prompts=self.prompts,
            chat_model=settings.llm.triage_model,
            reasoner_model=settings.llm.reasoner_model,
            max_tokens=settings.llm.answer_max_tokens,
            max_input_chars=settings.llm.max_context_chars,
            max_answer_chars=settings.llm.answer_max_chars,
            gate=self.limits,
            playbooks=settings.playbooks,
        )
        self.outbox = Outbox(
            sessions,
            send_lease_seconds=settings.pipeline.outbox_lease_seconds,
            max_attempts=settings.pipeline.reply_max_attempts,
            retry_base_seconds=settings.pipeline.reply_retry_base_seconds,
            scrub=self.redactor.redact,
            metrics=self.metrics,
        )
        self.inbox = Inbox(
            sessions,
            lease_seconds=settings.pipeline.inbox_lease_seconds,
            max_attempts=settings.pipeline.inbox_max_attempts,
            retry_base_seconds=settings.pipeline.inbox_retry_base_seconds,
            clock=clock,
            metrics=self.metrics,
            scrub=self.redactor.redact,
            on_seen=self.outbox.added.set,
        )
        # Replies yield to a burst's accepts (at most a quarter second): acks first.
        self.relay = OutboxRelay(
            self.outbox, before_round=functools.partial(self.inbox.quiet, REPLIES_YIELD_SECONDS)
        )
        self.intake = Intake(self.inbox, redact=self.redactor.redact, playbooks=settings.playbooks)
        self.summaries = Summaries(
            sessions, self.writer, every_messages=settings.llm.summary_every_messages, clock=clock
        )
        sla = SlaPolicy(
            high_minutes=settings.leads.sla_high_minutes,
            medium_minutes=settings.leads.sla_medium_minutes,
            low_business_days=settings.leads.sla_low_business_days,
        )
        self.leads_channels = leads_channels = leads_channels_of(settings.leads, settings.playbooks)
        self.knowledge = knowledge_base(settings.knowledge, self.database, clock=clock)
        grounding = Grounding(
            sessions=sessions,
            knowledge=self.knowledge,
            min_score=settings.knowledge.min_score,
            max_sources=settings.knowledge.max_sources,
            context_tokens=settings.knowledge.context_tokens,
            requires_sources=settings.knowledge.answer_requires_sources,
        )
        self.live = LiveAnswers(
            enabled=settings.llm.stream_answers, limit=settings.llm.answer_max_chars
        )
        replies = ThreadReplies(
            sessions=sessions,
            outbox=self.outbox,
            writer=self.writer,
            leads_channels=leads_channels,
            human_brief=settings.llm.human_brief,
            summaries=self.summaries,
            context_chars=settings.llm.max_context_chars,
            sla=sla,
            grounding=grounding,
            live=self.live,
            playbooks=settings.playbooks,
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
            confidence_threshold=settings.llm.reasoner_confidence_threshold,
            answer_while_triaging=settings.llm.answer_while_triaging,
            metrics=self.metrics,
            playbooks=settings.playbooks,
            clock=clock,
        )
        desk_parts = {
            "sessions": sessions,
            "outbox": self.outbox,
            "summaries": self.summaries,
            "writer": self.writer,
            "leads": leads_of(settings.leads),
            "playbooks": settings.playbooks,
            "clock": clock,
        }
        self.drafts = saved = SavedAnswers(
            knowledge=self.knowledge, redact=self.redactor.redact, **desk_parts
        )
        self.service = SupportService(
            handlers={
                "message_posted": messages.on_posted,
                "message_edited": messages.on_edited,
                "message_deleted": messages.on_deleted,
                "command_invoked": CommandDesk(
                    links=LoginLinks.of(sessions, settings.serving), **desk_parts
                ).command,
                "action_invoked": route_presses(
                    lead=LeadActions(on_resolved=saved.write_draft, **desk_parts).action,
                    requester=RequesterActions(
                        leads_channels=leads_channels, sla=sla, **desk_parts
                    ).action,
                ),
                "answer_approved": saved.approved,
                "home_opened": HomeDesk(**desk_parts).home,
            },
        )
        self.worker = InboxWorker(
            self.inbox,
            self.service.process,
            concurrency=settings.pipeline.worker_concurrency,
            on_settled=on_settled,
            stop_grace_seconds=stop_grace_seconds,
        )
        self.jobs = JobContext(
            sessions=sessions,
            outbox=self.outbox,
            leads_channels=leads_channels,
            sla=sla,
            sla_reminders=settings.leads.sla_reminders,
            stale_warn_days=settings.leads.stale_warn_days,
            stale_close_days=settings.leads.stale_close_days,
            retention_days=settings.privacy.retention_days,
            digest_hour_utc=settings.leads.digest_hour_utc,
            knowledge=self.knowledge,
            kb_refresh_daily=settings.knowledge.refresh_daily,
            playbooks=settings.playbooks,
            clock=clock,
        )
        self._scheduler: AsyncIOScheduler | None = None
        self._worker_task: asyncio.Task[None] | None = None
        self._relay_task: asyncio.Task[None] | None = None
        self._stop_grace = stop_grace_seconds

    @property
    def offline(self) -> bool:
        """True when no API key is set and triage runs on the offline rules."""
        return self.llm is None

    async def ticket_in(self, place: Place) -> int | None:
        """The number of the ticket whose thread `place` is, if there is one."""
        if place.thread_id is None:
            return None
        async with self.database.sessions() as session:
            ticket = await find_ticket(session, place, place.thread_id)
        return None if ticket is None else ticket.id

    def attach(self, platform: Platform, outlet: Outlet) -> None:
        """Let an adapter deliver the replies for its platform (and stream answers,
        when its outlet can)."""
        self.outbox.attach(platform, outlet)
        if isinstance(outlet, Streams):
            self.live.attach(platform, outlet)

    async def start(self, *, with_jobs: bool = False) -> None:
        """Migrate the database, start draining the inbox and the outbox (pending rows
        included) and, when asked, the periodic jobs."""
        await upgrade(self.database)
        self._relay_task = asyncio.create_task(self.relay.run(), name="outbox-relay")
        self._worker_task = asyncio.create_task(self.worker.run(), name="inbox-worker")
        if with_jobs:
            self._scheduler = schedule(self.jobs, ALL_JOBS)
            self._scheduler.start()
        log.info("app.started offline=%s", self.offline)

    async def stop(self) -> None:
        """Stop claiming events, let those in flight finish within the stop grace, hand
        the rest back to the inbox; give the relay the same grace to send what they
        wrote, hand back what it holds, and close connections."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._worker_task is not None:
            task, self._worker_task = self._worker_task, None
            await self.worker.shutdown(task)
        if self._relay_task is not None:
            task, self._relay_task = self._relay_task, None
            await self.relay.shutdown(task, grace_seconds=self._stop_grace)
        if self.llm is not None:
            await self.llm.aclose()
        await self.database.dispose()

    async def healthy(self) -> bool:
        """True when the inbox worker is running (alive, its last claim succeeded
        recently) and the database answers a trivial query within 5 s."""
        task = self._worker_task
        if task is None or task.done() or not self.worker.running:
            return False
        try:
            async with asyncio.timeout(5), self.database.sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("app.unhealthy database error=%s", type(exc).__name__)
            return False
        return True

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


def leads_of(leads: LeadsSettings) -> Leads:
    """The lead users and roles; Slack's lead user group arrives on actors as a role."""
    groups = [leads.slack_usergroup_id] if leads.slack_usergroup_id else []
    return Leads.of(leads.user_ids, [*leads.role_ids, *groups])


def leads_channels_of(leads: LeadsSettings, playbooks: Playbooks | None = None) -> LeadsChannels:
    """The leads channels the settings (and the playbooks' teams) name; adapters bind the
    bare ones when they start."""
    return LeadsChannels(
        {
            Platform.CONSOLE: {"": CONSOLE_LEADS_CHANNEL},
            Platform.SLACK: leads.slack_channels,
            Platform.DISCORD: leads.discord_channels,
        },
        playbooks,
    )
