"""Signing in to the dashboard over real HTTP: one-time links, the session cookie, CSRF,
signing out; tokens kept only as hashes and never logged."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.config import ServingSettings
from bot.dashboard.auth import COOKIE, DashboardAuth
from bot.dashboard.render import Pages
from bot.dashboard.viewer import VIEWER, Viewer
from bot.jobs.retention import run_retention
from bot.store.db import Database
from bot.store.logins import (
    LoginLinks,
    digest,
    issue_link,
    purge_expired,
    redeem_link,
    session_for,
)
from bot.store.models import AuditEntry, DashboardSession, LoginLink
from tests.bot.dashboard.conftest import Serve
from tests.bot.harness import Clock, RecordingOutlet, running_app

PREFIX = "/dashboard"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DATA = "TICKET-DATA"
EXPIRED = "This login link has expired or was already used"


class Site:
    """A dashboard with only the auth routes and two test pages, mounted at /dashboard."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        public_url: str | None = None,
        static: Path | None = None,
    ) -> None:
        self.done: list[Viewer] = []
        serving = ServingSettings(public_url=public_url)
        auth = DashboardAuth(db.sessions, serving, pages=Pages(prefix=PREFIX), clock=clock)
        dashboard = web.Application(middlewares=[auth.middleware()])
        dashboard.add_routes(auth.routes())
        dashboard.add_routes([web.get("/", self.queue), web.post("/act", self.act)])
        if static is not None:
            dashboard.router.add_static("/static", static)
        self.app = web.Application()
        self.app.add_subapp(PREFIX, dashboard)

    async def queue(self, request: web.Request) -> web.Response:
        viewer: Viewer = request[VIEWER]
        return web.Response(text=f"{DATA} of {','.join(viewer.workspaces)} for {viewer.user_id}")

    async def act(self, request: web.Request) -> web.Response:
        self.done.append(request[VIEWER])
        return web.Response(text="acted")


async def _link(db: Database, clock: Clock, *, workspaces: tuple[str, ...] = ("T_ACME",)) -> str:
    """A fresh link's token for lead U_LEAD on Slack."""
    links = LoginLinks(
        db.sessions, dashboard_url="http://testserver/dashboard", ttl=timedelta(minutes=10)
    )
    url = await links.issue(
        platform="slack",
        user_id="U_LEAD",
        workspaces=workspaces,
        roles=("R_LEADS",),
        display_name="Lee",
        now=clock(),
        issued_by="slack:U_LEAD",
    )
    assert url.startswith("http://testserver/dashboard/login/")
    return url.rsplit("/", 1)[1]


def _cookie(response: httpx.Response) -> SimpleCookie:
    jar = SimpleCookie()
    jar.load(response.headers["set-cookie"])
    return jar


async def _signed_in(serve: Serve, db: Database, clock: Clock) -> tuple[httpx.AsyncClient, Site]:
    site = Site(db, clock)
    client = await serve(site.app)
    response = await client.get(f"{PREFIX}/login/{await _link(db, clock)}")
    assert response.status_code == 303
    return client, site


async def _csrf(db: Database) -> str:
    async with db.sessions() as session:
        return (await session.scalars(select(DashboardSession.csrf_token))).one()


async def test_without_a_session_every_page_is_a_401_with_how_to_sign_in_and_no_data(
    db: Database, serve: Serve
) -> None:
    client = await serve(Site(db, Clock(START)).app)
    for response in (
        await client.get(f"{PREFIX}/"),
        await client.post(f"{PREFIX}/act", data={"csrf": "x"}),
    ):
        assert response.status_code == 401
        assert DATA not in response.text
        assert "/support dashboard" in response.text
        assert "supportbot web --link" in response.text


async def test_a_link_signs_in_once_and_the_session_sees_its_workspaces(
    db: Database, serve: Serve
) -> None:
    clock = Clock(START)
    site = Site(db, clock)
    client = await serve(site.app)
    token = await _link(db, clock, workspaces=("T_ACME", "T_TWO"))
    first = await client.get(f"{PREFIX}/login/{token}")
    assert first.status_code == 303
    assert first.headers["location"] == f"{PREFIX}/"
    page = await client.get(f"{PREFIX}/")
    assert page.status_code == 200
    assert page.text == f"{DATA} of T_ACME,T_TWO for U_LEAD"
    again = await httpx.AsyncClient(base_url=str(client.base_url)).get(f"{PREFIX}/login/{token}")
    assert again.status_code == 403
    assert EXPIRED in again.text
    assert "/support dashboard" in again.text
    assert "set-cookie" not in again.headers
    async with db.sessions() as session:
        link = (await session.scalars(select(LoginLink))).one()
        row = (await session.scalars(select(DashboardSession))).one()
        actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert link.used_at == START
    assert (row.platform, row.user_id, row.workspaces, row.roles, row.display_name) == (
        "slack",
        "U_LEAD",
        ["T_ACME", "T_TWO"],
        ["R_LEADS"],
        "Lee",
    )
    assert row.expires_at == START + timedelta(hours=12)
    assert actions == ["dashboard.link_issued", "dashboard.signed_in"]


async def test_an_expired_link_is_refused_and_a_session_ends_after_its_hours(
    db: Database, serve: Serve
) -> None:
    clock = Clock(START)
    client = await serve(Site(db, clock).app)
    late = await _link(db, clock)
    fresh = await _link(db, clock)
    clock.advance(minutes=10, seconds=1)
    refused = await client.get(f"{PREFIX}/login/{late}")
    assert refused.status_code == 403
    assert EXPIRED in refused.text
    clock.now = START + timedelta(minutes=9)
    assert (await client.get(f"{PREFIX}/login/{fresh}")).status_code == 303
    assert (await client.get(f"{PREFIX}/")).status_code == 200
    clock.advance(hours=12)
    ended = await client.get(f"{PREFIX}/")
    assert ended.status_code == 401
    assert DATA not in ended.text


async def test_static_files_are_public_and_no_path_trick_reaches_a_page(
    db: Database, serve: Serve, tmp_path: Path
) -> None:
    (tmp_path / "dashboard.css").write_text("body { color: black }", encoding="utf-8")
    client = await serve(Site(db, Clock(START), static=tmp_path).app)
    css = await client.get(f"{PREFIX}/static/dashboard.css")
    assert (css.status_code, css.text) == (200, "body { color: black }")
    for path in ("/login/../", "/static/../", "/login/%2e%2e/", "/no-such-page"):
        response = await client.get(f"{PREFIX}{path}")
        assert response.status_code in (401, 403, 404)
        assert DATA not in response.text


async def test_a_made_up_cookie_is_no_session(db: Database, serve: Serve) -> None:
    client = await serve(Site(db, Clock(START)).app)
    client.cookies.set(COOKIE, "made-up", path=PREFIX)
    response = await client.get(f"{PREFIX}/")
    assert response.status_code == 401
    assert DATA not in response.text


async def test_unknown_and_oversized_tokens_get_the_same_403_page(
    db: Database, serve: Serve
) -> None:
    client = await serve(Site(db, Clock(START)).app)
    for token in ("nope", "x" * 5000, "%00%ff"):
        response = await client.get(f"{PREFIX}/login/{token}")
        assert response.status_code == 403
        assert EXPIRED in response.text


async def test_a_link_preview_bot_or_a_head_request_does_not_use_up_the_link(
    db: Database, serve: Serve
) -> None:
    clock = Clock(START)
    client = await serve(Site(db, clock).app)
    token = await _link(db, clock)
    preview = await client.get(
        f"{PREFIX}/login/{token}", headers={"User-Agent": "Slackbot-LinkExpanding 1.0"}
    )
    assert preview.status_code == 200
    assert "set-cookie" not in preview.headers
    checked = await client.head(f"{PREFIX}/login/{token}")
    assert checked.status_code == 200
    assert "set-cookie" not in checked.headers
    assert (await client.get(f"{PREFIX}/login/{token}")).status_code == 303


async def test_the_cookie_is_httponly_lax_on_the_dashboards_path(
    db: Database, serve: Serve
) -> None:
    clock = Clock(START)
    client = await serve(Site(db, clock).app)
    response = await client.get(f"{PREFIX}/login/{await _link(db, clock)}")
    morsel = _cookie(response)[COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["path"] == PREFIX
    assert morsel["secure"] == ""  # plain http, no https public URL
    assert int(morsel["max-age"]) == 12 * 3600
    async with db.sessions() as session:
        row = (await session.scalars(select(DashboardSession))).one()
    assert row.session_hash == digest(morsel.value)  # only the hash is kept
    behind_proxy = await client.get(
        f"{PREFIX}/login/{await _link(db, clock)}", headers={"X-Forwarded-Proto": "https"}
    )
    assert _cookie(behind_proxy)[COOKIE]["secure"] is True


async def test_an_https_public_url_makes_the_cookie_secure(db: Database, serve: Serve) -> None:
    clock = Clock(START)
    client = await serve(Site(db, clock, public_url="https://support.example.test").app)
    response = await client.get(f"{PREFIX}/login/{await _link(db, clock)}")
    assert response.status_code == 303
    assert _cookie(response)[COOKIE]["secure"] is True


async def test_a_post_without_the_sessions_csrf_token_is_refused(
    db: Database, serve: Serve
) -> None:
    clock = Clock(START)
    client, site = await _signed_in(serve, db, clock)
    csrf = await _csrf(db)
    for refused in (
        await client.post(f"{PREFIX}/act"),
        await client.post(f"{PREFIX}/act", data={"note": "hi"}),
        await client.post(f"{PREFIX}/act", data={"csrf": "wrong"}),
        await client.post(f"{PREFIX}/act", headers={"X-CSRF-Token": csrf[:-1]}),
        await client.post(f"{PREFIX}/act", files={"csrf": ("csrf.txt", csrf.encode())}),
    ):
        assert refused.status_code == 403
        assert "security token" in refused.text
    assert site.done == []
    by_form = await client.post(f"{PREFIX}/act", data={"csrf": csrf})
    by_header = await client.post(f"{PREFIX}/act", headers={"X-CSRF-Token": csrf})
    assert (by_form.status_code, by_form.text) == (200, "acted")
    assert (by_header.status_code, by_header.text) == (200, "acted")
    assert [viewer.user_id for viewer in site.done] == ["U_LEAD", "U_LEAD"]


async def test_signing_out_revokes_the_session(db: Database, serve: Serve) -> None:
    clock = Clock(START)
    client, _site = await _signed_in(serve, db, clock)
    secret = client.cookies[COOKIE]
    refused = await client.post(f"{PREFIX}/logout", data={"csrf": "wrong"})
    assert refused.status_code == 403
    assert (await client.get(f"{PREFIX}/")).status_code == 200
    out = await client.post(f"{PREFIX}/logout", data={"csrf": await _csrf(db)})
    assert out.status_code == 200
    assert "signed out" in out.text
    assert _cookie(out)[COOKIE].value == ""  # the browser drops it
    client.cookies.set(COOKIE, secret, path=PREFIX)  # a copy of the cookie, kept
    replayed = await client.get(f"{PREFIX}/")
    assert replayed.status_code == 401
    async with db.sessions() as session:
        row = (await session.scalars(select(DashboardSession))).one()
        assert await session_for(session, secret, clock()) is None
    assert row.revoked_at == START


async def test_two_redeems_of_one_link_at_once_open_one_session(db: Database) -> None:
    clock = Clock(START)
    token = await _link(db, clock)

    async def redeem() -> bool:
        async with db.sessions.begin() as session:
            opened = await redeem_link(session, token, clock(), session_ttl=timedelta(hours=1))
        return opened is not None

    assert sorted(await asyncio.gather(*(redeem() for _ in range(5)))) == [False] * 4 + [True]
    async with db.sessions() as session:
        assert len((await session.scalars(select(DashboardSession))).all()) == 1


async def test_no_token_or_secret_is_stored_or_logged(
    db: Database, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = Clock(START)
    site = Site(db, clock)
    client = await serve(site.app)
    token = await _link(db, clock)
    await client.get(f"{PREFIX}/login/{token}")
    await client.get(f"{PREFIX}/login/{token}")  # refused: logged too
    secret = client.cookies[COOKIE]
    await client.post(f"{PREFIX}/logout", data={"csrf": await _csrf(db)})
    # Every server-side line (the test's own httpx client logs its URLs, as a browser's
    # history would hold them).
    ours = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("http")
    )
    assert "dashboard.signed_in" in ours
    assert "dashboard.link_refused" in ours
    for value in (token, secret):
        assert value not in ours
        assert value[:12] not in ours
    async with db.engine.connect() as conn:
        for table in (LoginLink.__table__, DashboardSession.__table__, AuditEntry.__table__):
            for row in (await conn.execute(select(table))).all():
                assert token not in str(row)
                assert secret not in str(row)


async def test_ended_links_and_sessions_are_purged_a_day_later(db: Database) -> None:
    clock = Clock(START)
    await _link(db, clock)  # never used: expires at 09:10
    used = await _link(db, clock)
    async with db.sessions.begin() as session:
        await redeem_link(session, used, clock(), session_ttl=timedelta(hours=12))
        # Both links ended at 09:10 (used or not); the session lasts till 21:00.
        assert await purge_expired(session, START + timedelta(hours=1)) == 2
        assert len((await session.scalars(select(DashboardSession))).all()) == 1
    async with db.sessions.begin() as session:
        assert await purge_expired(session, START + timedelta(hours=13)) == 1
        assert (await session.scalars(select(LoginLink))).all() == []
        assert (await session.scalars(select(DashboardSession))).all() == []


async def test_the_nightly_retention_job_purges_ended_logins(db: Database) -> None:
    clock = Clock(START.replace(hour=4))
    async with db.sessions.begin() as session:
        await issue_link(
            session,
            platform="slack",
            user_id="U_LEAD",
            workspaces=["T_ACME"],
            now=clock() - timedelta(days=2),
            ttl=timedelta(minutes=10),
        )
        await issue_link(
            session,
            platform="slack",
            user_id="U_LEAD",
            workspaces=["T_ACME"],
            now=clock(),
            ttl=timedelta(minutes=10),
        )
    async with running_app(db, None, RecordingOutlet(), start=False, clock=clock) as app:
        await run_retention(app.jobs)
    async with db.sessions() as session:
        kept = (await session.scalars(select(LoginLink.created_at))).all()
    assert kept == [clock()]


def test_links_point_at_the_public_url_or_localhost_and_a_path_is_refused() -> None:
    assert ServingSettings().dashboard_url() == "http://localhost:3000/dashboard"
    assert ServingSettings(http_port=8080).dashboard_url() == "http://localhost:8080/dashboard"
    public = ServingSettings(public_url="https://support.example.test/")
    assert public.dashboard_url() == "https://support.example.test/dashboard"
    for wrong in ("support.example.test", "ftp://x.test", "https://x.test/support"):
        with pytest.raises(ValueError, match="public_url"):
            ServingSettings(public_url=wrong)
    for minutes in (0, 61):
        with pytest.raises(ValueError, match="dashboard_link_minutes"):
            ServingSettings(dashboard_link_minutes=minutes)
