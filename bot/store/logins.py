"""Dashboard logins: one-time links for leads, and the sessions the links open.

A link's token and a session's secret are `secrets.token_urlsafe(32)` strings handed to
the lead (in a URL, in a cookie); these tables keep only their sha256, so a copy of
them signs nobody in. (The chat reply that carried a link stays in the outbox until
retention; by then the link has long expired or been used.) A link works once:
redeeming it is one compare-and-set UPDATE (`used_at IS NULL AND expires_at > now`),
so of two concurrent redeems one wins. Logs name a link or session by `fingerprint`
only, never by the secret itself.

No aiohttp here: the desk (`/support dashboard`) and the CLI (`supportbot web --link`)
issue links as well as the dashboard redeeming them.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import ServingSettings
from bot.store.audit import audit
from bot.store.models import DashboardSession, LoginLink

__all__ = [
    "LoginLinks",
    "Opened",
    "digest",
    "fingerprint",
    "issue_link",
    "purge_expired",
    "redeem_link",
    "revoke",
    "session_for",
]

_TOKEN_BYTES = 32
MAX_SECRET_CHARS = 128
"""Longer than any token we hand out: such input is refused before it is hashed."""


def digest(secret: str) -> str:
    """The sha256 (hex) of a token or session secret: what the tables keep."""
    return hashlib.sha256(secret.encode()).hexdigest()


def fingerprint(secret: str) -> str:
    """A short name for a token or secret in logs (a prefix of its hash, not of it)."""
    return digest(secret)[:8]


async def issue_link(
    session: AsyncSession,
    *,
    platform: str,
    user_id: str,
    workspaces: Sequence[str],
    roles: Sequence[str] = (),
    display_name: str = "",
    now: datetime,
    ttl: timedelta,
) -> str:
    """Store a new one-time link for this lead and return its token (shown once)."""
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    session.add(
        LoginLink(
            token_hash=digest(token),
            platform=platform,
            user_id=user_id,
            workspaces=list(workspaces),
            roles=list(roles),
            display_name=display_name,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    await session.flush()
    return token


@dataclass(frozen=True)
class Opened:
    """A session a link just opened: its secret (for the cookie, shown once) and its row."""

    secret: str
    row: DashboardSession


async def redeem_link(
    session: AsyncSession, token: str, now: datetime, *, session_ttl: timedelta
) -> Opened | None:
    """Use a link once and open a session for its lead.

    Returns:
        The new session, or None when the token is unknown, expired or already used.
    """
    if not token or len(token) > MAX_SECRET_CHARS:
        return None
    hashed = digest(token)
    claimed = await session.execute(
        update(LoginLink)
        .where(
            LoginLink.token_hash == hashed,
            LoginLink.used_at.is_(None),
            LoginLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # unknown, expired, or another redeem won
        return None
    link = await session.scalar(select(LoginLink).where(LoginLink.token_hash == hashed))
    assert link is not None  # the row just updated
    secret = secrets.token_urlsafe(_TOKEN_BYTES)
    row = DashboardSession(
        session_hash=digest(secret),
        platform=link.platform,
        user_id=link.user_id,
        workspaces=list(link.workspaces),
        roles=list(link.roles),
        display_name=link.display_name,
        csrf_token=secrets.token_urlsafe(_TOKEN_BYTES),
        created_at=now,
        expires_at=now + session_ttl,
    )
    session.add(row)
    await session.flush()
    return Opened(secret=secret, row=row)


async def session_for(session: AsyncSession, secret: str, now: datetime) -> DashboardSession | None:
    """The live session a cookie's secret names, or None (unknown, expired or revoked)."""
    if not secret or len(secret) > MAX_SECRET_CHARS:
        return None
    return await session.scalar(
        select(DashboardSession).where(
            DashboardSession.session_hash == digest(secret),
            DashboardSession.revoked_at.is_(None),
            DashboardSession.expires_at > now,
        )
    )


async def revoke(session: AsyncSession, secret: str, now: datetime) -> bool:
    """Sign a session out for good. True when a live session was revoked."""
    if not secret or len(secret) > MAX_SECRET_CHARS:
        return False
    done = await session.execute(
        update(DashboardSession)
        .where(
            DashboardSession.session_hash == digest(secret), DashboardSession.revoked_at.is_(None)
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


async def purge_expired(session: AsyncSession, cutoff: datetime) -> int:
    """Delete links and sessions that expired (or were revoked) before `cutoff`.

    Returns:
        How many rows went.
    """
    links = await session.execute(delete(LoginLink).where(LoginLink.expires_at < cutoff))
    ended = or_(DashboardSession.expires_at < cutoff, DashboardSession.revoked_at < cutoff)
    sessions = await session.execute(delete(DashboardSession).where(ended))
    return links.rowcount + sessions.rowcount


class LoginLinks:
    """Issues login links as URLs: what `/support dashboard` and `web --link` hand out."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, dashboard_url: str, ttl: timedelta
    ) -> None:
        """`dashboard_url`: where the dashboard is (`https://host/dashboard`)."""
        self._sessions = sessions
        self.dashboard_url = dashboard_url.rstrip("/")
        self.ttl = ttl

    @classmethod
    def of(cls, sessions: async_sessionmaker[AsyncSession], serving: ServingSettings) -> LoginLinks:
        """Links as the serving settings describe them (public URL, minutes valid)."""
        return cls(
            sessions,
            dashboard_url=serving.dashboard_url(),
            ttl=timedelta(minutes=serving.dashboard_link_minutes),
        )

    @property
    def minutes(self) -> int:
        """How long a link stays valid, in whole minutes (for the sentence around it)."""
        return int(self.ttl.total_seconds() // 60)

    async def issue(
        self,
        *,
        platform: str,
        user_id: str,
        workspaces: Sequence[str],
        roles: Sequence[str] = (),
        display_name: str = "",
        now: datetime,
        issued_by: str,
    ) -> str:
        """A new one-time login URL for this lead, committed (and audited as issued by
        `issued_by`, `platform:user` or `cli:operator`) before it is returned."""
        async with self._sessions.begin() as session:
            audit(
                session,
                actor=issued_by,
                action="dashboard.link_issued",
                target=f"{platform}:{user_id}",
                at=now,
                workspaces=list(workspaces),
            )
            token = await issue_link(
                session,
                platform=platform,
                user_id=user_id,
                workspaces=workspaces,
                roles=roles,
                display_name=display_name,
                now=now,
                ttl=self.ttl,
            )
        return f"{self.dashboard_url}/login/{token}"
