"""Signing leads in to the dashboard: login links, the session cookie, and CSRF.

`GET {prefix}/login/{token}` uses a one-time link (from `/support dashboard` or
`supportbot web --link`) and sets the `supportbot_session` cookie: HttpOnly,
SameSite=Lax, its path the dashboard's, and Secure when the public URL is https or the
request came over https (X-Forwarded-Proto too). The middleware lets the public paths
through (the login route, static files, /healthz) and answers everything else without
a live session with a 401 page that says how to get a link, and no data. Every request
that is not GET/HEAD/OPTIONS must carry the session's CSRF token (form field `csrf`, or
header `X-CSRF-Token`) or is refused with a 403 page: checked here, so no form can
forget it. `POST {prefix}/logout` revokes the session.

Tokens and secrets never reach a log line, not even at DEBUG: logs name a link or
session by `fingerprint` (a prefix of its hash).
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import ServingSettings
from bot.dashboard.render import Pages
from bot.dashboard.viewer import VIEWER, Viewer
from bot.store.audit import audit
from bot.store.logins import fingerprint, redeem_link, revoke, session_for
from bot.store.models import DashboardSession, utcnow

__all__ = ["COOKIE", "PUBLIC_PATHS", "DashboardAuth", "viewer_of"]

log = logging.getLogger(__name__)

COOKIE = "supportbot_session"
PUBLIC_PATHS = ("/login/", "/static/", "/healthz")
"""Paths (under the prefix) served without a session; a trailing slash means "and below"."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD, CSRF_HEADER = "csrf", "X-CSRF-Token"
# Chat apps fetch a posted link to preview it (by these User-Agents).
_PREVIEWERS = re.compile(
    r"Slackbot|Discordbot|facebookexternalhit|Twitterbot|TelegramBot|WhatsApp|"
    r"LinkedInBot|SkypeUriPreview|Googlebot|bingbot",
    re.IGNORECASE,
)
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def viewer_of(row: DashboardSession) -> Viewer:
    """The signed-in lead a session row describes."""
    return Viewer(
        platform=row.platform,
        user_id=row.user_id,
        workspaces=tuple(row.workspaces),
        csrf_token=row.csrf_token,
        roles=tuple(row.roles),
        display_name=row.display_name,
    )


class DashboardAuth:
    """The login and logout routes, and the session middleware, for one dashboard."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        serving: ServingSettings,
        *,
        pages: Pages,
        clock: Callable[[], datetime] = utcnow,
        public_paths: tuple[str, ...] = PUBLIC_PATHS,
    ) -> None:
        """`pages` renders the refusals and knows the mount prefix; `serving` gives the
        public URL (https makes the cookie Secure) and how long a session lasts."""
        self._sessions = sessions
        self._pages = pages
        self._prefix = pages.prefix
        self._clock = clock
        self._public = public_paths
        self._session_ttl = timedelta(hours=serving.dashboard_session_hours)
        self._https = (serving.public_url or "").startswith("https://")

    def routes(self) -> list[web.RouteDef]:
        """`GET /login/{token}` and `POST /logout`, relative to the mount prefix."""
        return [web.get("/login/{token}", self.login), web.post("/logout", self.logout)]

    def middleware(self) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
        """The session middleware: public paths pass; otherwise a live session (sets
        `request[VIEWER]`) or a 401 page; a non-GET also needs the CSRF token or a 403."""

        @web.middleware
        async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            if self._is_public(request):
                return await handler(request)
            viewer = await self._viewer(request)
            if viewer is None:
                return self._pages.html(request, "login.html.j2", status=401)
            request[VIEWER] = viewer
            if request.method not in SAFE_METHODS and not await _csrf_ok(request, viewer):
                log.info("dashboard.csrf_refused user=%s path=%s", viewer.user_id, request.path)
                return self._pages.html(request, "csrf_refused.html.j2", status=403)
            return await handler(request)

        return session_middleware

    def _is_public(self, request: web.Request) -> bool:
        """Whether the route matched (not the raw path, which may hold `..`) is public."""
        resource = request.match_info.route.resource
        if resource is None:  # no route: a 404 for the signed-in, a 401 for anyone else
            return False
        inside = resource.canonical.removeprefix(self._prefix)
        return any(
            inside.startswith(public) or inside == public.rstrip("/")
            if public.endswith("/")
            else inside == public
            for public in self._public
        )

    async def _viewer(self, request: web.Request) -> Viewer | None:
        secret = request.cookies.get(COOKIE)
        if not secret:
            return None
        async with self._sessions() as session:
            row = await session_for(session, secret, self._clock())
        return None if row is None else viewer_of(row)

    async def login(self, request: web.Request) -> web.StreamResponse:
        """Use the link once: set the session cookie and 303 to the queue; an unknown,
        expired or used link gets a 403 page."""
        token = request.match_info["token"]
        # A HEAD (link checkers) or a chat app's preview fetch must not use up the link.
        if request.method == "HEAD" or _PREVIEWERS.search(request.headers.get("User-Agent", "")):
            return self._pages.html(request, "link_preview.html.j2")
        now = self._clock()
        async with self._sessions.begin() as session:
            opened = await redeem_link(session, token, now, session_ttl=self._session_ttl)
            if opened is not None:
                row = opened.row
                audit(
                    session,
                    actor=f"{row.platform}:{row.user_id}",
                    action="dashboard.signed_in",
                    target=f"{row.platform}:{row.user_id}",
                    at=now,
                    workspaces=list(row.workspaces),
                )
        if opened is None:
            log.info("dashboard.link_refused link=%s", fingerprint(token))
            return self._pages.html(request, "link_refused.html.j2", status=403)
        log.info(
            "dashboard.signed_in link=%s session=%s user=%s",
            fingerprint(token),
            fingerprint(opened.secret),
            opened.row.user_id,
        )
        response = web.Response(status=303, headers={"Location": f"{self._prefix}/"})
        response.set_cookie(
            COOKIE,
            opened.secret,
            path=self._prefix or "/",
            max_age=int(self._session_ttl.total_seconds()),
            httponly=True,
            samesite="Lax",
            secure=self._https or _over_https(request),
        )
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        """Revoke the session (the middleware checked it and its CSRF token) and clear
        the cookie."""
        viewer: Viewer = request[VIEWER]
        secret = request.cookies.get(COOKIE, "")
        now = self._clock()
        async with self._sessions.begin() as session:
            if await revoke(session, secret, now):
                who = f"{viewer.platform}:{viewer.user_id}"
                audit(session, actor=who, action="dashboard.signed_out", target=who, at=now)
        log.info("dashboard.signed_out session=%s user=%s", fingerprint(secret), viewer.user_id)
        del request[VIEWER]  # the page after signing out is nobody's
        response = self._pages.html(request, "signed_out.html.j2")
        response.del_cookie(COOKIE, path=self._prefix or "/")
        return response


async def _csrf_ok(request: web.Request, viewer: Viewer) -> bool:
    """True when the request carries the session's CSRF token (header or form field)."""
    sent: object = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in _FORMS:
        try:
            sent = (await request.post()).get(CSRF_FIELD)  # cached: the handler reads it again
        except ValueError:  # a malformed body carries no token
            return False
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(), viewer.csrf_token.encode())


def _over_https(request: web.Request) -> bool:
    """True when the browser's connection is https (directly, or at the proxy)."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https"
