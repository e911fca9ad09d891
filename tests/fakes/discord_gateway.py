"""The gateway half of the fake Discord (mixed into `FakeDiscord`).

One WebSocket endpoint, ``/gw``, speaking plain-text JSON frames (discord.py asks for
``compress=zlib-stream`` but decodes text frames as they come; the fake ignores the
query). One session at a time (a plain Client, or an AutoShardedClient with one
shard). What it does, as Discord does:

- HELLO (op 10) on connect; HEARTBEAT_ACK (op 11) for every HEARTBEAT (op 1).
- IDENTIFY (op 2): wrong token -> close 4004; a privileged intent when
  ``refuse_privileged_intents`` -> close 4014; more than one shard -> 4010 (not
  implemented here); else a new session: READY (with ``shard`` when sharded), then
  GUILD_CREATE.
- RESUME (op 6) of the live session: replays every dispatch after the client's seq,
  then RESUMED; an unknown session gets INVALID_SESSION (op 9, ``d: false``).
- RECONNECT (op 7) on request (`request_reconnect`).
- Events are filtered by the session's intents (MESSAGE_* need GUILD_MESSAGES or
  DIRECT_MESSAGES, guild and thread events need GUILDS), and without
  MESSAGE_CONTENT a guild message that does not mention the bot loses its content,
  embeds, attachments and components. Filtered events land in ``dropped_events``.

Delivery barrier: discord.py answers a server-sent HEARTBEAT (op 1) with its own
heartbeat carrying the last seq it processed, and it handles frames in order. So the
fake sends op 1 after what it wants confirmed and waits for a heartbeat whose seq is
at least that far: when `dispatch` (``wait=True``) or `wait_ready` return, the client
has parsed the event and scheduled its handlers. Each such reply costs the client one
of its 110 gateway sends per minute; use ``wait=False`` for bulk dispatches.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

__all__ = ["GatewaySessions", "Intent"]


class Intent:
    """Gateway intent bits the fake looks at."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    DIRECT_MESSAGES = 1 << 12
    MESSAGE_CONTENT = 1 << 15
    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


HEARTBEAT_INTERVAL_MS = 41250
BARRIERS_PER_CONNECTION = 100  # discord.py sends at most 110 frames a minute
TRACE = ['["fake-gateway"]']


@dataclass
class _Session:
    """The gateway session (made by IDENTIFY, continued by RESUME)."""

    session_id: str
    intents: int
    shard: list[int] | None  # [shard_id, num_shards] as IDENTIFY sent it
    ws: web.WebSocketResponse | None  # the socket that carries it; None while reconnecting
    seq: int = 0
    log: list[tuple[int, str]] = field(default_factory=list)  # (seq, frame) to replay
    confirmed: int = 0  # highest seq the client reported in a heartbeat
    ready_seq: int = 0  # GUILD_CREATE's seq
    resumed_seq: int = 0  # the last RESUMED's seq
    barriers: int = 0  # heartbeats asked for on the current socket


def required_intent(event: str, data: dict[str, Any]) -> int | None:
    """The intent Discord requires before it sends `event`, or None."""
    if event.startswith("MESSAGE_"):
        return Intent.GUILD_MESSAGES if "guild_id" in data else Intent.DIRECT_MESSAGES
    if event.startswith(("GUILD_", "CHANNEL_", "THREAD_")):
        return Intent.GUILDS
    return None


class GatewaySessions:
    """Gateway state and the WebSocket handler. `FakeDiscord` supplies the world."""

    token: str
    guild_id: int
    bot_user_id: int
    application_id: int
    refuse_privileged_intents: bool
    gateway_url: str

    # supplied by FakeDiscord
    _notify: Callable[[], None]
    _wait_until: Callable[..., Any]
    _bot_user: Callable[[], dict[str, Any]]
    _guild_payload: Callable[[], dict[str, Any]]
    _observe: Callable[[str, dict[str, Any]], None]
    _application_flags: Callable[[], int]

    def _init_gateway(self) -> None:
        self.identifies = 0
        self.resumes = 0
        self.last_intents: int | None = None
        self.replayed_events: list[int] = []  # seqs sent again on a RESUME
        self.dropped_events: list[tuple[str, dict[str, Any]]] = []  # filtered by intents
        self.gateway_frames: list[dict[str, Any]] = []  # client frames except heartbeats
        self._session: _Session | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self._resume_target = 1
        self._gateway_closing = False

    # --- public API ----------------------------------------------------------------
    async def wait_ready(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Return once a client is connected and has processed READY and GUILD_CREATE
        (after an IDENTIFY) or RESUMED (after a RESUME)."""

        def ready() -> bool:
            s = self._session
            return (
                s is not None
                and s.ws is not None
                and s.confirmed >= max(s.ready_seq, s.resumed_seq)
            )

        await self._wait_until(ready, timeout, "READY client")

    async def wait_resumed(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Return once the client RESUMEd after the last `request_reconnect` (or at
        all, if none) and processed RESUMED."""
        target = self._resume_target

        def resumed() -> bool:
            s = self._session
            return (
                self.resumes >= target
                and s is not None
                and s.ws is not None
                and 0 < s.resumed_seq <= s.confirmed
            )

        await self._wait_until(resumed, timeout, "RESUMEd client")

    async def dispatch(
        self,
        event: str,
        data: dict[str, Any],
        *,
        wait: bool = True,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> int:
        """Send ``{"op": 0, "t": event, "s": seq, "d": data}`` to the client; return seq.

        The event is kept for RESUME replay; when the client is reconnecting it is
        only kept, and the RESUME delivers it. With ``wait``, return once the client
        has processed it (see the module doc). Returns 0, sending nothing, when the
        session's intents exclude the event (it is then in ``dropped_events``).
        Raises RuntimeError before a client IDENTIFYed.
        """
        session = self._session
        if session is None:
            raise RuntimeError("no gateway session yet: await fake.wait_ready() first")
        self._observe(event, data)
        seq = await self._emit(event, data)
        if seq and wait:
            if session.ws is not None:
                if session.barriers >= BARRIERS_PER_CONNECTION:
                    return seq  # out of barriers on this socket: "sent" is all we can say
                await self._request_heartbeat(session)
            # else the client is reconnecting: the RESUME handler asks for a heartbeat
            await self._wait_until(
                lambda: session.confirmed >= seq or session is not self._session,
                timeout,
                f"client processing seq {seq}",
            )
        return seq

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT. The client closes this socket, ignoring any frame after
        op 7, reconnects to ``resume_gateway_url`` and RESUMEs; `wait_resumed` waits.
        Events dispatched meanwhile are what the RESUME replays."""
        if self._session is None or self._session.ws is None:
            raise RuntimeError("no gateway client connected")
        self._resume_target = self.resumes + 1
        await self._send(self._session.ws, {"op": 7, "d": None})

    # --- plumbing -----------------------------------------------------------------
    async def _send(self, ws: web.WebSocketResponse, payload: dict[str, Any] | str) -> None:
        frame = payload if isinstance(payload, str) else json.dumps(payload)
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(frame)  # if the client is going away, RESUME replays it

    def _shaped(self, session: _Session, event: str, data: dict[str, Any]) -> dict[str, Any] | None:
        """`data` as this session may see it, or None when its intents exclude it."""
        needed = required_intent(event, data)
        if needed is not None and not session.intents & needed:
            return None
        if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE") and not (
            session.intents & Intent.MESSAGE_CONTENT
        ):
            author = str((data.get("author") or {}).get("id"))
            mentioned = any(
                str(u.get("id")) == str(self.bot_user_id) for u in data.get("mentions", [])
            )
            if "guild_id" in data and author != str(self.bot_user_id) and not mentioned:
                data = {**data, "content": "", "embeds": [], "attachments": [], "components": []}
        return data

    async def _emit(self, event: str, data: dict[str, Any]) -> int:
        """Number, log and send one dispatch; 0 if filtered out or there is no session."""
        session = self._session
        if session is None:
            return 0
        shaped = self._shaped(session, event, copy.deepcopy(data))
        if shaped is None:
            self.dropped_events.append((event, data))
            return 0
        session.seq += 1
        frame = json.dumps({"op": 0, "t": event, "s": session.seq, "d": shaped})
        if event not in ("READY", "RESUMED"):
            session.log.append((session.seq, frame))
        if session.ws is not None:
            await self._send(session.ws, frame)
        return session.seq

    async def _request_heartbeat(self, session: _Session) -> None:
        if session.ws is not None and session.barriers < BARRIERS_PER_CONNECTION:
            session.barriers += 1
            await self._send(session.ws, {"op": 1, "d": None})

    # --- the WebSocket handler -------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if self._gateway_closing:
            return web.Response(status=503)
        # timeout: how long close() waits for the client's close frame
        ws = web.WebSocketResponse(timeout=2.0, max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            hello = {"heartbeat_interval": HEARTBEAT_INTERVAL_MS, "_trace": TRACE}
            await self._send(ws, {"op": 10, "d": hello})
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_frame(ws, json.loads(msg.data))
                elif msg.type is WSMsgType.BINARY:  # ETF or compressed: not spoken here
                    await ws.close(code=4002, message=b"Error while decoding payload.")
        finally:
            self._sockets.discard(ws)
            if self._session is not None and self._session.ws is ws:
                self._session.ws = None
            self._notify()
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        op, d = frame.get("op"), frame.get("d")
        if op == 1:
            session = self._session
            if session is not None and session.ws is ws and isinstance(d, int):
                session.confirmed = max(session.confirmed, d)
                self._notify()
            await self._send(ws, {"op": 11})
            return
        self.gateway_frames.append(frame)
        if op == 2:
            await self._identify(ws, d or {})
        elif op == 6:
            await self._resume(ws, d or {})
        elif op not in (3, 4):  # presence and voice state updates: nothing to answer
            await ws.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> None:
        if d.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(d.get("intents", 0))
        self.identifies += 1
        self.last_intents = intents
        self._notify()
        if self.refuse_privileged_intents and intents & Intent.PRIVILEGED:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard = d.get("shard")
        if shard is not None and list(shard) != [0, 1]:
            await ws.close(code=4010, message=b"Invalid shard (the fake has one).")
            return
        session = self._session = _Session(uuid.uuid4().hex, intents, shard, ws)
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**self._bot_user(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": self._application_flags()},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "user_settings": {},
            "auth": {},
            "_trace": TRACE,
        }
        if shard is not None:
            ready["shard"] = shard
        await self._emit("READY", ready)
        session.ready_seq = await self._emit("GUILD_CREATE", self._guild_payload())
        await self._request_heartbeat(session)
        self._notify()

    async def _resume(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> None:
        if d.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        session = self._session
        if session is None or session.session_id != d.get("session_id"):
            await self._send(ws, {"op": 9, "d": False})
            return
        self.resumes += 1
        session.ws, session.barriers = ws, 0
        after = int(d.get("seq") or 0)
        for seq, frame in session.log:
            if seq > after:
                self.replayed_events.append(seq)
                await self._send(ws, frame)
        session.resumed_seq = await self._emit("RESUMED", {"_trace": TRACE})
        await self._request_heartbeat(session)
        self._notify()

    async def _close_gateway(self) -> None:
        """Refuse new sockets and close the open ones (the fake is shutting down)."""
        self._gateway_closing = True
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=1001, message=b"fake Discord stopped"), 3)
        self._session = None
