"""A lead's actions on a ticket from the dashboard: claim, resolve, reopen, reclassify.

They are the desk's, not the dashboard's. Each POST becomes the `ActionInvoked` event a
button press in chat becomes, with the signed-in lead as its actor and the ticket's
thread as its place, and goes through the app's service: the same permission checks
(a lead of the desk, or of the ticket's team), the same audit rows, the same human
triage run for a reclassification, and the same card updates (an `UpdateCard` row for
every card the outbox posted for the ticket, which whichever process has that
platform's outlet sends).

The event is handled in the request, not queued on the inbox: the outcome is
committed before the redirect, so the next page shows it, and no worker has to run in
this process (`supportbot web` runs none). A refusal the desk writes as a private note
(not a lead of that team, a status that does not allow the change, an unknown label)
is shown on the ticket page and taken off the outbox, so chat does not get it too.
A ticket outside the lead's workspaces is a 404, as a missing one is.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy import select, update

from bot.dashboard.render import FLASH, Flash, Pages
from bot.dashboard.viewer import VIEWER, Viewer
from bot.dashboard.views import DASHBOARD_ACTIONS
from bot.events import ActionInvoked, TicketAction
from bot.pipeline.keys import event_reply_key
from bot.store.models import OutboxItem, Ticket, utcnow
from bot.tickets.queries import get_ticket, place_of

if TYPE_CHECKING:
    from bot.app import SupportApp

__all__ = ["DONE", "Outcome", "TicketActions", "flash_middleware"]

DONE = {
    TicketAction.CLAIM: "claimed",
    TicketAction.RESOLVE: "resolved",
    TicketAction.REOPEN: "reopened",
    TicketAction.RECLASSIFY: "reclassified",
}
"""The word the flash message says for each of the dashboard's actions."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]

_ACTIONS = "|".join(action.value for action in DASHBOARD_ACTIONS)
_EVENT_PREFIX = "dashboard:"
_REFUSAL = re.compile(r"[0-9a-f]{32}")
MAX_LABEL_CHARS = 64  # a category or urgency name; longer is not one
MAX_ID_DIGITS = 12  # beyond any ticket number (and short of int()'s digit limit)


@dataclass(frozen=True)
class Outcome:
    """What became of one action: done, or the desk's refusal (its private note)."""

    event_id: str
    refusal: str | None


class TicketActions:
    """The POST routes that act on a ticket."""

    def __init__(self, app: SupportApp, pages: Pages) -> None:
        """`app`: the app whose service handles the events; `pages` renders the
        refusals and knows where the dashboard is mounted (for the redirect back)."""
        self._app = app
        self._pages = pages
        self._prefix = pages.prefix

    def routes(self) -> list[web.RouteDef]:
        """`POST /tickets/{id}/{claim|resolve|reopen|reclassify}`."""
        return [web.post(rf"/tickets/{{id:\d+}}/{{action:{_ACTIONS}}}", self.handle)]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Check the lead may see the ticket, let the desk act, then 303 back to the
        ticket page with the outcome (Post/Redirect/Get). The session middleware
        (`bot.dashboard.auth`) has refused anyone signed out and any form without the
        session's CSRF token before this runs."""
        viewer: Viewer = request[VIEWER]
        raw = request.match_info["id"]
        ticket = await self._visible_ticket(viewer, raw)
        if ticket is None:  # another workspace's ticket reads as a missing one
            return self._error(request, 404, "Not found", f"There is no ticket #{raw[:20]} here.")
        action = TicketAction(request.match_info["action"])
        value = None
        if action is TicketAction.RECLASSIFY:
            form = await request.post()
            try:
                value = _labels(form.get("category"), form.get("urgency"))
            except ValueError as exc:
                return self._error(request, 400, "Not a label", str(exc))
        outcome = await self.act(viewer, ticket, action, value)
        where = f"{self._prefix}/tickets/{ticket.id}"
        if outcome.refusal is not None:
            return _see_other(f"{where}?refused={outcome.event_id.removeprefix(_EVENT_PREFIX)}")
        return _see_other(f"{where}?done={DONE[action]}")

    async def act(
        self, viewer: Viewer, ticket: Ticket, action: TicketAction, value: str | None
    ) -> Outcome:
        """Run `action` through the desk as if `viewer` pressed it on the ticket's card."""
        event = ActionInvoked(
            event_id=f"{_EVENT_PREFIX}{uuid.uuid4().hex}",
            place=place_of(ticket),
            actor=viewer.actor(),
            action=action,
            ticket_id=ticket.id,
            value=value,
        )
        await self._app.service.process(event)
        return Outcome(event.event_id, await self._take_note(event))

    async def _visible_ticket(self, viewer: Viewer, raw: str) -> Ticket | None:
        if len(raw) > MAX_ID_DIGITS:
            return None
        async with self._app.database.sessions() as session:
            ticket = await get_ticket(session, int(raw))
        if ticket is None or not viewer.sees(ticket.platform, ticket.workspace_id):
            return None
        return ticket

    def _error(self, request: web.Request, status: int, heading: str, message: str) -> web.Response:
        return self._pages.html(
            request, "error.html.j2", status=status, heading=heading, message=message
        )

    async def _take_note(self, event: ActionInvoked) -> str | None:
        """The desk's private note to the lead, if it wrote one (only a refusal or a
        problem does); marked sent if the relay has not taken it yet, since the page
        delivers it. Should the relay have been first, chat shows it as well."""
        key = event_reply_key(event.place.platform, event.event_id)
        async with self._app.database.sessions.begin() as session:
            payload = await session.scalar(select(OutboxItem.payload).where(OutboxItem.key == key))
            if payload is None:
                return None
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.key == key, OutboxItem.status == "pending")
                .values(status="sent", sent_at=utcnow(), attempts=OutboxItem.attempts + 1)
            )
        return _text_of(payload)

    async def refusal(self, viewer: Viewer, code: str) -> str | None:
        """The text of the refusal `?refused=code` names, if it was written to `viewer`
        (the code is the event's random id: a link cannot make the page say anything else)."""
        if not _REFUSAL.fullmatch(code):
            return None
        key = event_reply_key(viewer.platform, f"{_EVENT_PREFIX}{code}")
        async with self._app.database.sessions() as session:
            payload = await session.scalar(select(OutboxItem.payload).where(OutboxItem.key == key))
        if payload is None or payload.get("actor", {}).get("user_id") != viewer.user_id:
            return None
        return _text_of(payload)


def flash_middleware(actions: TicketActions) -> Middleware:
    """Puts the outcome of the last action (`?done=claimed`, `?refused=...`) on a GET
    request as a `Flash`, for the page to show."""

    @web.middleware
    async def flash(request: web.Request, handler: Handler) -> web.StreamResponse:
        viewer: Viewer | None = request.get(VIEWER)
        if request.method == "GET" and viewer is not None:
            done, code = request.query.get("done"), request.query.get("refused")
            if done in DONE.values():
                request[FLASH] = Flash(text=_done_text(request, done), ok=True)
            elif code:
                text = await actions.refusal(viewer, code)
                if text is not None:
                    request[FLASH] = Flash(text=text, ok=False)
        return await handler(request)

    return flash


def _see_other(location: str) -> web.Response:
    """303: the browser GETs the ticket page (a reload never posts the form again)."""
    return web.Response(status=303, headers={"Location": location})


def _done_text(request: web.Request, done: str) -> str:
    ticket = request.match_info.get("id")
    return f"Ticket #{ticket} {done}." if ticket else f"Ticket {done}."


def _labels(category: object, urgency: object) -> str | None:
    """The desk's reclassify value (`category=billing:urgency=high`) from the form's
    two selects; None when neither is picked (the desk then asks for one).

    Raises:
        ValueError: a pick that cannot be a label (the desk's separators in it).
    """
    parts = []
    for kind, picked in (("category", category), ("urgency", urgency)):
        if not isinstance(picked, str) or not picked.strip():
            continue
        word = picked.strip()
        if len(word) > MAX_LABEL_CHARS or any(mark in word for mark in ":=,"):
            raise ValueError(f"“{word[:40]}” is not a {kind}.")
        parts.append(f"{kind}={word}")
    return ":".join(parts) or None


def _text_of(payload: dict[str, object]) -> str | None:
    if payload.get("kind") != "ephemeral":  # the desk's private note (`DeskBase._say`)
        return None
    text = payload.get("text")
    return text if isinstance(text, str) else None
