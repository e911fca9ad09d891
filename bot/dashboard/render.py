"""Jinja2 pages: one environment, autoescaped, templates shipped in the package."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.dashboard.viewer import VIEWER, Viewer

__all__ = ["FLASH", "Flash", "Pages"]


@dataclass(frozen=True)
class Flash:
    """One line at the top of a page: an action done (`ok`), or the desk's refusal."""

    text: str
    ok: bool


FLASH = web.RequestKey("dashboard.flash", Flash)
"""The request key under which the outcome of the lead's last action waits to be shown."""


class Pages:
    """Renders the dashboard's templates into responses."""

    def __init__(self, *, prefix: str = "") -> None:
        """`prefix`: where the dashboard is mounted ("" or "/dashboard"), for links."""
        self.prefix = prefix
        self.env = Environment(
            loader=PackageLoader("bot.dashboard", "templates"),
            autoescape=select_autoescape(("html", "j2")),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def html(
        self, request: web.Request, template: str, *, status: int = 200, **context: Any
    ) -> web.Response:
        """`template` rendered with `context`, the viewer (or None), their CSRF token,
        the mount prefix and the flash of the last action (or None)."""
        viewer: Viewer | None = request.get(VIEWER)
        text = self.env.get_template(template).render(
            viewer=viewer,
            csrf=viewer.csrf_token if viewer else "",
            prefix=self.prefix,
            flash=request.get(FLASH),
            **context,
        )
        return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
