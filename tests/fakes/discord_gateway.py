"""The gateway half of the fake Discord (mixed into `FakeDiscord`).

One WebSocket endpoint, ``/gw``, speaking plain-text JSON frames (discord.py asks for
``compress=zlib-stream`` but decodes text frames as they come; the fake ignores the
query). What it does, as Discord does:

- HELLO (op 10) on connect; HEARTBEAT_ACK (op 11) for every HEARTBEAT (op 1).
- IDENTIFY (op 2): wrong token -> close 4004; a privileged intent when
  ``refuse_privileged_intents`` -> close 4014; a bad ``shard`` -> 4010; else a new
  session for that shard: READY (seq 1, with ``shard`` when sharded) and, if the
  guild falls on that shard (``(guild_id >> 22) % num_shards``), GUILD_CREATE.
- RESUME (op 6) of a live session: replays every dispatch after the client's seq,
  then RESUMED; an unknown session gets INVALID_SESSION (op 9, ``d: false``).
- REQUEST_GUILD_MEMBERS (op 8): one GUILD_MEMBERS_CHUNK with the bot's member.
- Events are filtered by the session's intents (MESSAGE_* need GUILD_MESSAGES or
  DIRECT_MESSAGES, THREAD_* need GUILDS, ...), and without MESSAGE_CONTENT a guild
  message that does not mention the bot loses its content, embeds, attachments and
  components. Filtered events land in ``dropped_events``.

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
    GUILD_MESSAGE_REACTIONS = 1 << 10
    GUILD_MESSAGE_TYPING = 1 << 11
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    DIRECT_MESSAGE_TYPING = 1 << 14
    MESSAGE_CONTENT = 1 << 15
    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


HEARTBEAT_INTERVAL_MS = 41250
BARRIERS_PER_CONNECTION = 100  # discord.py sends at most 110 frames a minute
_GUILDS_EVENTS = (
    "GUILD_CREATE",
    "GUILD_UPDATE",
    "GUILD_DELETE",
    "GUILD_ROLE_CREATE",
    "GUILD_ROLE_UPDATE",
    "GUILD_ROLE_DELETE",
    "CHANNEL_CREATE",
    "CHANNEL_UPDATE",
    "CHANNEL_DELETE",
    "CHANNEL_PINS_UPDATE",
    "THREAD_CREATE",
    "THREAD_UPDATE",
    "THREAD_DELETE",
    "THREAD_LIST_SYNC",
    "THREAD_MEMBER_UPDATE",
    "STAGE_INSTANCE_CREATE",
)
_NOT_REPLAYED = ("READY", "RESUMED")


@dataclass(eq=False)  # hashed by identity: kept in a set
class _Conn:
    """One gateway WebSocket."""

    ws: web.WebSocketResponse
    session: _Session | None = None  # set by IDENTIFY / RESUME
    barriers: int = 0


@dataclass
class _Session:
    """A gateway session of one shard (made by IDENTIFY, continued by RESUME)."""

    session_id: str
    intents: int
    shard: list[int] | None  # [shard_id, num_shards] as IDENTIFY sent it
    conn: _Conn | None = None  # the socket that carries it now; None while reconnecting
    seq: int = 0
    log: list[tuple[int, str]] = field(default_factory=list)  # (seq, frame) to replay
    confirmed: int = 0  # highest seq the client reported in a heartbeat
    ready_seq: int = 0  # GUILD_CREATE's (or READY's) seq
    resumed_seq: int = 0  # the last RESUMED's seq
    valid: bool = True

    @property
    def shard_id(self) -> int:
        return self.shard[0] if self.shard else 0

    def owns(self, guild_id: int | None) -> bool:
        """Whether this shard carries `guild_id` (DMs, None, go to shard 0)."""
        if self.shard is None:
            return True
        if guild_id is None:
            return self.shard[0] == 0
        return (guild_id >> 22) % self.shard[1] == self.shard[0]

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


def required_intent(event: str, data: dict[str, Any]) -> int | None:
    """The intent Discord requires before it sends `event`, or None."""
    in_guild = "guild_id" in data
    if event.startswith("MESSAGE_REACTION"):
        return Intent.GUILD_MESSAGE_REACTIONS if in_guild else Intent.DIRECT_MESSAGE_REACTIONS
    if event.startswith("MESSAGE_"):
        return Intent.GUILD_MESSAGES if in_guild else Intent.DIRECT_MESSAGES
    if event == "TYPING_START":
        return Intent.GUILD_MESSAGE_TYPING if in_guild else Intent.DIRECT_MESSAGE_TYPING
    if event in _GUILDS_EVENTS:
        return Intent.GUILDS
    if event in ("GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE"):
        return Intent.GUILD_MEMBERS
    return None


def _guild_of(data: dict[str, Any]) -> int | None:
    guild_id = data.get("guild_id")
    return int(guild_id) if guild_id is not None else None


class GatewaySessions:
    """Gateway state and the WebSocket handler. `FakeDiscord` supplies the world.

    Sessions are kept per shard (a plain Client is shard 0 of 1). Events go to the
    shard that carries their ``guild_id`` (DMs to shard 0); the reconnect helpers
    act on the shard of the fake's guild unless given ``shard_id``.
    """

    token: str
    guild_id: int
    bot_user_id: int
    application_id: int
    refuse_privileged_intents: bool
    gateway_url: str

    # supplied by FakeDiscord
    _notify: Callable[[], None]
    _wait_until: Callable[..., Any]

    def _init_gateway(self) -> None:
        self.identifies = 0
        self.resumes = 0
        self.last_intents: int | None = None
        self.gateway_connections = 0
        self.replayed_events: list[int] = []  # seqs sent again on a RESUME
        self.dropped_events: list[tuple[str, dict[str, Any]]] = []  # filtered by intents
        self.gateway_frames: list[dict[str, Any]] = []  # client frames except heartbeats
        self._sessions: dict[int, _Session] = {}  # shard id -> its current session
        self._conns: set[_Conn] = set()
        self._resume_target = 1
        self._gateway_closing = False

    # --- world, supplied by FakeDiscord ----------------------------------------------
    def _bot_user(self) -> dict[str, Any]:
        raise NotImplementedError

    def _guild_payload(self) -> dict[str, Any]:
        raise NotImplementedError

    def _observe(self, event: str, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def _application_flags(self) -> int:
        raise NotImplementedError

    # --- public API ----------------------------------------------------------------
    async def wait_ready(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Return once the shard carrying the guild is connected and its client has
        processed READY and GUILD_CREATE (after an IDENTIFY) or RESUMED (after a
        RESUME)."""

        def ready() -> bool:
            s = self._session_for(self.guild_id)
            return (
                s is not None
                and s.conn is not None
                and s.confirmed >= max(s.ready_seq, s.resumed_seq)
            )

        await self._wait_until(ready, timeout, "READY client")

    async def wait_resumed(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Return once a client RESUMEd after the last `request_reconnect` /
        `drop_connection` / resumable `invalidate_session` (or at all, if none) and
        processed RESUMED."""
        target = self._resume_target

        def resumed() -> bool:
            if self.resumes < target:
                return False
            return any(
                s.conn is not None and 0 < s.resumed_seq <= s.confirmed
                for s in self._sessions.values()
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
        """Send ``{"op": 0, "t": event, "s": seq, "d": data}`` to the client (the
        shard of ``data["guild_id"]``); return seq.

        The event is kept for RESUME replay; when the client is reconnecting it is
        only kept, and the RESUME delivers it. With ``wait``, return once the client
        has processed it (see the module doc). Returns 0, sending nothing, when the
        session's intents exclude the event (it is then in ``dropped_events``).
        Raises RuntimeError before a client IDENTIFYed on that shard.
        """
        session = self._session_for(_guild_of(data))
        if session is None:
            raise RuntimeError("no gateway session yet: await fake.wait_ready() first")
        self._observe(event, data)
        seq = await self._emit(event, data, session)
        if seq and wait:
            await self._wait_delivered(session, seq, timeout)
        return seq

    async def request_reconnect(self, *, shard_id: int | None = None) -> None:
        """Send op 7 RECONNECT. The client closes this socket, ignoring any frame after
        op 7, reconnects to ``resume_gateway_url`` and RESUMEs; `wait_resumed` waits.
        Events dispatched meanwhile are what the RESUME replays."""
        conn = self._live(shard_id)
        self._resume_target = self.resumes + 1
        await self._send(conn, {"op": 7, "d": None})

    async def invalidate_session(
        self, *, resumable: bool = False, shard_id: int | None = None
    ) -> None:
        """Send op 9 INVALID_SESSION. ``resumable=False`` ends the session: the client
        IDENTIFYs again (discord.py first sleeps 5 s in ``before_identify_hook``) and
        gets a new READY; ``True`` makes it RESUME."""
        conn = self._live(shard_id)
        if resumable:
            self._resume_target = self.resumes + 1
        elif conn.session is not None:
            conn.session.valid = False
        await self._send(conn, {"op": 9, "d": resumable})

    async def drop_connection(self, code: int = 4000, *, shard_id: int | None = None) -> None:
        """Close the client's socket from the server side with `code` (4000 "unknown
        error" is resumable; 4004 and 4010-4014 are not)."""
        conn = self._live(shard_id)
        self._resume_target = self.resumes + 1
        await conn.ws.close(code=code, message=b"fake Discord closed the connection")

    # --- plumbing -----------------------------------------------------------------
    def _session_for(self, guild_id: int | None) -> _Session | None:
        for session in self._sessions.values():
            if session.valid and session.owns(guild_id):
                return session
        return None

    def _live(self, shard_id: int | None) -> _Conn:
        if shard_id is None:
            session = self._session_for(self.guild_id)
        else:
            session = self._sessions.get(shard_id)
        if session is None or session.conn is None:
            raise RuntimeError("no gateway client connected")
        return session.conn

    async def _send(self, conn: _Conn, payload: dict[str, Any] | str) -> bool:
        frame = payload if isinstance(payload, str) else json.dumps(payload)
        try:
            await conn.ws.send_str(frame)
        except (ConnectionError, RuntimeError):
            return False  # the client is going away; RESUME replays what it missed
        return True

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
                data.pop("poll", None)
        return data

    async def _emit(self, event: str, data: dict[str, Any], session: _Session | None = None) -> int:
        """Number, log and send one dispatch on `session` (default: the shard of
        ``data["guild_id"]``); 0 if filtered out or there is no session."""
        session = session or self._session_for(_guild_of(data))
        if session is None:
            return 0
        shaped = self._shaped(session, event, copy.deepcopy(data))
        if shaped is None:
            self.dropped_events.append((event, data))
            return 0
        seq = session.next_seq()
        frame = json.dumps({"op": 0, "t": event, "s": seq, "d": shaped})
        if event not in _NOT_REPLAYED:
            session.log.append((seq, frame))
        if session.conn is not None:
            await self._send(session.conn, frame)
        return seq

    async def _request_heartbeat(self, conn: _Conn) -> None:
        if conn.barriers < BARRIERS_PER_CONNECTION:
            conn.barriers += 1
            await self._send(conn, {"op": 1, "d": None})

    async def _wait_delivered(
        self,
        session: _Session,
        seq: int,
        timeout: float,  # noqa: ASYNC109
    ) -> None:
        conn = session.conn
        if conn is not None:
            if conn.barriers >= BARRIERS_PER_CONNECTION:
                return  # out of barriers on this connection: "sent" is all we can say
            await self._request_heartbeat(conn)
        # else the client is reconnecting: the RESUME handler asks for a heartbeat
        await self._wait_until(
            lambda: session.confirmed >= seq or not session.valid,
            timeout,
            f"client processing seq {seq}",
        )

    # --- the WebSocket handler -------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if self._gateway_closing:
            return web.Response(status=503)
        # timeout: how long close() waits for the client's close frame
        ws = web.WebSocketResponse(timeout=2.0, max_msg_size=0)
        await ws.prepare(request)
        conn = _Conn(ws)
        self._conns.add(conn)
        self.gateway_connections += 1
        try:
            hello = {"heartbeat_interval": HEARTBEAT_INTERVAL_MS, "_trace": ['["fake-gateway"]']}
            await self._send(conn, {"op": 10, "d": hello})
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_frame(conn, json.loads(msg.data))
                elif msg.type is WSMsgType.BINARY:  # ETF or compressed: not spoken here
                    await ws.close(code=4002, message=b"Error while decoding payload.")
        finally:
            self._conns.discard(conn)
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            self._notify()
        return ws

    async def _on_frame(self, conn: _Conn, frame: dict[str, Any]) -> None:
        op, d = frame.get("op"), frame.get("d")
        if op != 1:
            self.gateway_frames.append(frame)
        if op == 1:
            session = conn.session
            if session is not None and session.conn is conn and isinstance(d, int):
                session.confirmed = max(session.confirmed, d)
                self._notify()
            await self._send(conn, {"op": 11})
        elif op == 2:
            await self._identify(conn, d or {})
        elif op == 6:
            await self._resume(conn, d or {})
        elif op == 8:
            await self._member_chunk(conn, d or {})
        elif op in (3, 4):
            pass  # presence and voice state updates: nothing to answer
        else:
            await conn.ws.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, conn: _Conn, d: dict[str, Any]) -> None:
        if d.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(d.get("intents", 0))
        self.identifies += 1
        self.last_intents = intents
        self._notify()
        if self.refuse_privileged_intents and intents & Intent.PRIVILEGED:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard = d.get("shard")
        if shard is not None and not 0 <= shard[0] < shard[1]:
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        session = _Session(uuid.uuid4().hex, intents, shard, conn=conn)
        old = self._sessions.get(session.shard_id)
        if old is not None:
            old.valid = False
        self._sessions[session.shard_id] = session
        conn.session = session
        on_shard = session.owns(self.guild_id)
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**self._bot_user(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(self.guild_id), "unavailable": True}] if on_shard else [],
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
            "_trace": ['["fake-gateway"]'],
        }
        if shard is not None:
            ready["shard"] = shard
        session.ready_seq = await self._emit("READY", ready, session)
        if on_shard:
            session.ready_seq = await self._emit("GUILD_CREATE", self._guild_payload(), session)
        await self._request_heartbeat(conn)
        self._notify()

    async def _resume(self, conn: _Conn, d: dict[str, Any]) -> None:
        if d.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        session = next(
            (s for s in self._sessions.values() if s.valid and s.session_id == d.get("session_id")),
            None,
        )
        if session is None:
            await self._send(conn, {"op": 9, "d": False})
            return
        self.resumes += 1
        session.conn, conn.session = conn, session
        after = int(d.get("seq") or 0)
        for seq, frame in session.log:
            if seq > after:
                self.replayed_events.append(seq)
                await self._send(conn, frame)
        resumed = {"_trace": ['["fake-gateway"]']}
        session.resumed_seq = await self._emit("RESUMED", resumed, session)
        await self._request_heartbeat(conn)
        self._notify()

    async def _member_chunk(self, conn: _Conn, d: dict[str, Any]) -> None:
        if conn.session is None:
            return
        chunk: dict[str, Any] = {
            "guild_id": str(d.get("guild_id", self.guild_id)),
            "members": self._guild_payload()["members"],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if d.get("nonce") is not None:
            chunk["nonce"] = d["nonce"]
        if d.get("presences"):
            chunk["presences"] = []
        await self._emit("GUILD_MEMBERS_CHUNK", chunk, conn.session)

    async def _close_gateway(self) -> None:
        """Refuse new sockets and close the open ones (the fake is shutting down)."""
        self._gateway_closing = True
        for conn in list(self._conns):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.ws.close(code=1001, message=b"fake Discord stopped"), 3)
        self._sessions.clear()
