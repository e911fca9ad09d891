"""The one place that builds the dashboard: sessions, pages, actions, static files.

`dashboard_app()` is an aiohttp application meant to be mounted at `DASHBOARD_PATH`
("/dashboard"): by `dashboard_site()` for `supportbot web` (with `/` sending browsers to
it) and by the Slack adapter next to `/slack/events` in `supportbot run --http`. Links
and redirects all carry that prefix, so the dashboard lives at
`{SUPPORTBOT_PUBLIC_URL}/dashboard` in both modes.

Every response carries strict security headers: login tokens travel in URLs, so no
page may leak its address (Referrer-Policy), run an injected script (CSP without
inline scripts), be framed, or be sniffed into another type; none is cached.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.config.sections import DASHBOARD_PATH
from bot.dashboard.actions import TicketActions, flash_middleware
from bot.dashboard.auth import DashboardAuth
from bot.dashboard.pages import DashboardPages
from bot.dashboard.render import Pages
from bot.store.sqlite_inline import offloaded

if TYPE_CHECKING:
    from bot.app import SupportApp

__all__ = ["SECURITY_HEADERS", "dashboard_app", "dashboard_site", "start_site"]

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # tickets and costs stay out of shared and back caches
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Adds `SECURITY_HEADERS` to every response, refusals and redirects included."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(SECURITY_HEADERS)
        raise
    response.headers.update(SECURITY_HEADERS)
    return response


@web.middleware
async def offload_queries(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A page's queries (reports over every ticket) run off the event loop's thread.
    An action (a POST) runs the pipeline's own short statements in place, as the
    pipeline does: its note to the lead is then taken off the outbox before the
    relay's turn comes (`TicketActions._take_note`)."""
    if request.method == "POST":
        return await handler(request)
    with offloaded():
        return await handler(request)


def dashboard_app(app: SupportApp, *, public_url: str) -> web.Application:
    """The dashboard for `app`'s database and desk, to mount at `DASHBOARD_PATH`.

    Args:
        app: the SupportApp whose database the pages read and whose service runs the
            actions (its worker and relay need not run in this process).
        public_url: how leads' browsers reach this server (`https://host`); an https
            one makes the session cookie `Secure`.
    """
    pages = Pages(prefix=DASHBOARD_PATH)
    serving = app.settings.serving.model_copy(update={"public_url": public_url})
    auth = DashboardAuth(app.database.sessions, serving, pages=pages)
    actions = TicketActions(app, pages)
    dashboard = web.Application(
        middlewares=[
            security_headers,
            offload_queries,
            auth.middleware(),
            flash_middleware(actions),
        ]
    )
    dashboard.add_routes(auth.routes())
    dashboard.add_routes(DashboardPages.for_app(app, pages).routes())
    dashboard.add_routes(actions.routes())
    static = _static_dir()
    if static.is_dir():
        dashboard.router.add_static("/static", static)
    return dashboard


def dashboard_site(
    app: SupportApp, *, public_url: str, extra: Iterable[tuple[str, Handler]] = ()
) -> web.Application:
    """A whole site with the dashboard at `DASHBOARD_PATH` and `/` sending browsers to it
    (`supportbot web`, and `run --http` when Slack is not served over HTTP); `extra`:
    more GET routes (`/metrics`, `/healthz`)."""
    site = web.Application(middlewares=[security_headers])
    site.router.add_get("/", to_dashboard)
    site.router.add_get(DASHBOARD_PATH, to_dashboard)
    for path, handler in extra:
        site.router.add_get(path, handler)
    site.add_subapp(DASHBOARD_PATH, dashboard_app(app, public_url=public_url))
    return site


async def to_dashboard(_request: web.Request) -> web.Response:
    """`GET /` and `GET /dashboard`: the dashboard's queue is at `/dashboard/`."""
    raise web.HTTPFound(f"{DASHBOARD_PATH}/")


async def start_site(site: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve `site` on `host:port`; the runner (to `cleanup()`) and the bound port
    (useful with port 0).

    Raises:
        OSError: the port cannot be listened on.
    """
    runner = web.AppRunner(site, access_log=None)  # the access log would carry login tokens
    await runner.setup()
    try:
        tcp = web.TCPSite(runner, host, port)
        await tcp.start()
    except OSError:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1] if runner.addresses else port
    return runner, int(bound)


def _static_dir() -> Path:
    """The package's static files (CSS), wherever the package is installed."""
    return Path(str(files("bot.dashboard").joinpath("static")))
