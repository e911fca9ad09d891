"""The Socket Mode half of the fake Slack: a WebSocket endpoint at ``/link/``.

`FakeSlack` owns one `SocketModeHub`; `apps.connections.open` issues tickets with
`new_ticket()` and the hub accepts only those. On connect the hub sends Slack's
``hello``; afterwards it records every message the client sends and resolves
`wait_ack` when an ack (``{"envelope_id": ...}``) arrives. WebSocket pings (the SDK
sends ``sdk-ping-pong:<time>`` every few seconds) are answered by aiohttp itself.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

__all__ = ["SocketModeHub"]

# Types of envelope whose ack may carry a response payload (Slack's accepts_response_payload).
_RESPONSE_TYPES = {"slash_commands"}
_RESPONSE_INTERACTIVE = {"block_suggestion", "view_submission"}


class SocketModeHub:
    """Connected Socket Mode clients, the envelopes sent to them and their acks."""

    def __init__(self, *, app_id: str = "A_APP") -> None:
        self.app_id = app_id
        self.connections = 0  # clients connected so far (reconnects count again)
        self.received: list[dict[str, Any]] = []  # every JSON message from clients
        self.sent: list[dict[str, Any]] = []  # every envelope sent with `send`
        self.acks: dict[str, dict[str, Any]] = {}  # envelope_id -> ack message
        self._tickets: set[str] = set()
        self._open: set[web.WebSocketResponse] = set()
        self._ack_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._connected = asyncio.Event()

    def new_ticket(self) -> str:
        """A ticket for the ``/link/`` URL that `apps.connections.open` hands out."""
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return ticket

    @property
    def open_count(self) -> int:
        """How many clients are connected right now."""
        return len(self._open)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for ``GET /link/?ticket=...``."""
        if request.query.get("ticket") not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        ws = web.WebSocketResponse(autoping=True, timeout=2.0)
        await ws.prepare(request)
        self.connections += 1
        self._open.add(ws)
        try:
            await ws.send_json(
                {
                    "type": "hello",
                    "num_connections": len(self._open),
                    "debug_info": {
                        "host": "applink-fake-1",
                        "build_number": 118,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )
            self._connected.set()
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(msg.data)
        finally:
            self._open.discard(ws)
            if not self._open:
                self._connected.clear()
        return ws

    def _on_text(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            message = {"raw": data}
        if not isinstance(message, dict):
            message = {"raw": message}
        self.received.append(message)
        envelope_id = message.get("envelope_id")
        if isinstance(envelope_id, str):
            self.acks.setdefault(envelope_id, message)
            waiter = self._ack_waiters.get(envelope_id)
            if waiter is not None and not waiter.done():
                waiter.set_result(message)

    async def send(
        self,
        payload_type: str,
        payload: dict[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        """Send one envelope to every connected client; return its envelope_id.

        Raises RuntimeError when no client is connected (a test bug, not a Slack state).
        """
        if not self._open:
            raise RuntimeError("no Socket Mode client is connected to the fake Slack")
        accepts = payload_type in _RESPONSE_TYPES or (
            payload_type == "interactive" and payload.get("type") in _RESPONSE_INTERACTIVE
        )
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": payload_type,
            "accepts_response_payload": accepts,
        }
        if payload_type == "events_api":  # only event envelopes carry retry fields
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        self.sent.append(envelope)
        text = json.dumps(envelope)
        for ws in list(self._open):
            await ws.send_str(text)
        return envelope_id

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The client's ack for `envelope_id`; TimeoutError if none within `timeout`."""
        if envelope_id in self.acks:
            return self.acks[envelope_id]
        loop = asyncio.get_running_loop()
        waiter = self._ack_waiters.setdefault(envelope_id, loop.create_future())
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except TimeoutError:
            raise TimeoutError(f"no ack for envelope {envelope_id} within {timeout} s") from None

    async def wait_connected(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Return once at least one client is connected (and has been sent hello)."""
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"no Socket Mode client connected within {timeout} s") from None

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's ``disconnect`` message; the SDK then reconnects with a new URL."""
        message = {
            "type": "disconnect",
            "reason": reason,
            "debug_info": {"host": "applink-fake-1"},
        }
        for ws in list(self._open):
            await ws.send_json(message)

    async def close_all(self, code: int = WSCloseCode.GOING_AWAY) -> None:
        """Close every open connection (a dropped link, or shutdown)."""
        for ws in list(self._open):
            await ws.close(code=code)
