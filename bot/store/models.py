"""SQLAlchemy 2.0 models for every table supportbot keeps.

Times are stored as timezone-aware UTC. Message text is stored redacted; the audit
log never holds message content. Schema changes go through Alembic migrations in
`bot/store/migrations/versions/`, never through `create_all`.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.events import TicketStatus

# SQLite has no exact decimal type; costs are small numbers with 10 places, which a
# double round-trips exactly enough. PostgreSQL stores them as exact NUMERIC.
warnings.filterwarnings("ignore", message=r"Dialect sqlite\+\w+ does \*not\* support Decimal")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware in UTC, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: supportbot stores UTC-aware times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Money = Numeric(20, 10, asdecimal=True)


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class InboxItem(Base):
    """An accepted event, committed before the platform is acknowledged."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "event_id"),
        Index("ix_inbox_status_lease", "status", "lease_until"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]


class Ticket(Base):
    """One support request and its thread."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("platform", "workspace_id", "channel_id", "thread_id"),
        Index("ix_tickets_status", "status"),
        Index("ix_tickets_team", "platform", "workspace_id", "team"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str] = mapped_column(String(64))
    requester_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.OPEN.value)
    category: Mapped[str | None] = mapped_column(String(32))
    urgency: Mapped[str | None] = mapped_column(String(16))
    needs_human: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str | None] = mapped_column(Text)
    route: Mapped[str | None] = mapped_column(String(16))
    route_reason: Mapped[str | None] = mapped_column(Text)
    assignee_id: Mapped[str | None] = mapped_column(String(64))
    sla_due_at: Mapped[datetime | None]
    root_message_id: Mapped[str | None] = mapped_column(String(64))
    messages_since_summary: Mapped[int] = mapped_column(default=0)
    escalated_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    satisfaction: Mapped[str | None] = mapped_column(String(8))
    """The requester's rating once resolved: "good" or "bad" (None until rated)."""
    rated_at: Mapped[datetime | None]
    team: Mapped[str | None] = mapped_column(String(32))
    """The playbook team whose leads get the ticket (a routing rule's); None: the
    workspace's leads. A team since removed from the playbook reads as none."""
    suggested_assignee_id: Mapped[str | None] = mapped_column(String(64))
    """The team lead suggested on the card when it was escalated (round robin or least
    loaded); the next round-robin pick follows the last one suggested."""
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def as_row(self) -> dict[str, Any]:
        """The ticket's labels and route, JSON-ready (no message content)."""
        return {
            "id": self.id,
            "platform": self.platform,
            "place": f"{self.workspace_id}/{self.channel_id}/{self.thread_id}",
            "status": self.status,
            "category": self.category,
            "urgency": self.urgency,
            "needs_human": self.needs_human,
            "route": self.route,
            "route_reason": self.route_reason,
            "created_at": self.created_at.isoformat(),
        }


class Message(Base):
    """A message in a ticket's thread; `text` is redacted and erased on request."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("ticket_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[str] = mapped_column(String(64))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str | None] = mapped_column(Text)
    reasoning: Mapped[str | None] = mapped_column(Text)
    """The reasoner's thinking behind a bot answer: for leads, never posted."""
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


class TriageRun(Base):
    """One classification of a ticket: by the model, the offline rules, or a lead."""

    __tablename__ = "triage_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))  # llm | fallback | human
    model: Mapped[str | None] = mapped_column(String(64))
    prompt_version: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[dict[str, Any]]
    attempts: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LlmCall(Base):
    """One HTTP attempt to the model API, failed ones included: the cost ledger."""

    __tablename__ = "llm_calls"
    __table_args__ = (Index("ix_llm_calls_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    purpose: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(64))
    prompt_version: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))  # ok | http_429 | timeout | ...
    error: Mapped[str | None] = mapped_column(Text)
    prompt_cache_hit_tokens: Mapped[int] = mapped_column(default=0)
    prompt_cache_miss_tokens: Mapped[int] = mapped_column(default=0)
    completion_tokens: Mapped[int] = mapped_column(default=0)
    reasoning_tokens: Mapped[int] = mapped_column(default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    latency_ms: Mapped[int] = mapped_column(default=0)
    attempt: Mapped[int] = mapped_column(default=1)
    request_id: Mapped[str | None] = mapped_column(String(128))
    workspace_id: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(64))
    retrieved_chunks: Mapped[int] = mapped_column(default=0)
    """Knowledge-base passages the prompt carried (an answer's sources)."""
    retrieved_tokens: Mapped[int] = mapped_column(default=0)
    """About how many prompt tokens those passages added."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Summary(Base):
    """A rolling summary of a ticket's thread."""

    __tablename__ = "summaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    text: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who did what to which ticket, and when. Never message content."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxItem(Base):
    """A reply the bot owes a platform, keyed so a retry never posts it twice."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_outbox_status", "status"),
        Index("ix_outbox_ticket_id", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    platform: Mapped[str] = mapped_column(String(16))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))  # post_reply | notify | ephemeral | update_card
    payload: Mapped[dict[str, Any]]
    is_card: Mapped[bool] = mapped_column(Boolean, default=False)
    # pending | sending | sent | failed (given up after bounded attempts)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_message_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class JobRun(Base):
    """A periodic job's claim on one period, so a cluster runs it once."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(64))
    ran_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="done", server_default="done")
    """running (under `lease_until`) | done: only finished work marks its period done."""
    lease_until: Mapped[datetime | None]


class LoginLink(Base):
    """A one-time dashboard login link for one lead. Only the sha256 of its token is
    kept, so the table opens nothing; `used_at` is set once, by the one redeem that wins."""

    __tablename__ = "login_links"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    workspaces: Mapped[list[str]] = mapped_column(JSON)
    """The workspaces (Slack teams, Discord guilds) the lead leads, as checked on issue."""
    roles: Mapped[list[str]] = mapped_column(JSON)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class DashboardSession(Base):
    """A signed-in dashboard session, opened by a login link; its cookie's secret is kept
    as a sha256 only. `csrf_token` is what every form of the session must carry."""

    __tablename__ = "dashboard_sessions"
    __table_args__ = (UniqueConstraint("session_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    workspaces: Mapped[list[str]] = mapped_column(JSON)
    roles: Mapped[list[str]] = mapped_column(JSON)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


async def status_counts(
    session: AsyncSession, model: type[InboxItem | OutboxItem]
) -> dict[str, int]:
    """How many of the queue's rows are in each status (the inbox's or the outbox's)."""
    rows = await session.execute(select(model.status, func.count()).group_by(model.status))
    return {status: int(count) for status, count in rows}


# The knowledge base's tables share this metadata; imported last, as they build on Base.
from bot.store import kb_tables  # noqa: E402, F401
