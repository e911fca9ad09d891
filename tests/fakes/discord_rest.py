"""The REST half of the fake Discord (mixed into `FakeDiscord`), under ``/api/v10``.

Every request meets, in order: recording in ``rest_calls`` (failed ones too); the
token check (``Authorization: Bot <token>``; interaction callbacks and webhook
routes carry their token in the path instead) -> 401; a scripted `rate_limit` -> 429;
then its route, or 404 ``{"message": "404: Not Found", "code": 0}``.

Errors are Discord's own: 10003 Unknown Channel, 10008 Unknown Message, 10015 Unknown
Webhook, 10062 Unknown interaction (also after ``interaction_ack_seconds``), 40060
already acknowledged, 50006 empty message, 50035 Invalid Form Body (content over 2000
characters, more than 10 embeds or 6000 embed characters, more than 5 component
rows, bad thread names or archive durations, bad command names), 160004 thread
already created for this message, 50083 archived and locked thread.

JSON answers carry ``Content-Type: application/json`` exactly: discord.py compares the
string, and aiohttp's ``json_response`` would add ``; charset=utf-8``.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes import discord_payloads as dp

__all__ = ["API_PREFIX", "RestCall", "RestRoutes"]

API_PREFIX = "/api/v10"
THREAD_ARCHIVE_MINUTES = (60, 1440, 4320, 10080)
EPHEMERAL = 1 << 6
LOADING = 1 << 7
IS_COMPONENTS_V2 = 1 << 15
MESSAGE_FLAGS_KEPT = (1 << 2) | (1 << 12) | IS_COMPONENTS_V2  # suppress embeds/notifications
# interaction type -> callback types Discord accepts for it
CALLBACK_TYPES = {2: {4, 5, 9, 10, 12}, 3: {4, 5, 6, 7, 9, 10, 12}, 4: {8}, 5: {4, 5, 6, 7}}


@dataclass(frozen=True)
class RestCall:
    """One REST request the fake received."""

    method: str
    path: str  # after /api/v10, e.g. "/channels/300/messages"
    json: Any  # the JSON body (``payload_json`` of a multipart body), None if none
    headers: dict[str, str]
    at: float  # time.monotonic() when received
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class _RateLimit:
    method: str
    pattern: re.Pattern[str]
    times: int
    retry_after: float
    is_global: bool


@dataclass
class _Interaction:
    """An interaction the fake dispatched, and what the bot did with it."""

    payload: dict[str, Any]
    at: float
    callback: int | None = None  # the callback type, once answered
    original: dict[str, Any] | None = None  # @original
    awaiting_followup: bool = False  # deferred (type 5): the first follow-up fills it


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer with ``Content-Type: application/json`` and nothing more."""
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def error(status: int, message: str, code: int) -> web.Response:
    """Discord's error body ``{"message", "code"}``."""
    return reply({"message": message, "code": code}, status)


def form_error(problems: dict[str, tuple[str, str]]) -> web.Response:
    """400 Invalid Form Body; ``problems`` maps ``"embeds.0.title"`` to (code, message)."""
    errors: dict[str, Any] = {}
    for path, (code, message) in problems.items():
        node = errors
        for part in path.split("."):
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
    return reply({"message": "Invalid Form Body", "code": 50035, "errors": errors}, 400)


def _too_long(limit: int) -> tuple[str, str]:
    return ("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _embed_problems(embeds: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    problems: dict[str, tuple[str, str]] = {}
    if len(embeds) > 10:
        problems["embeds"] = _too_long(10)
    total = 0
    limits = {"title": 256, "description": 4096}
    for i, embed in enumerate(embeds):
        for key, limit in limits.items():
            text = embed.get(key) or ""
            total += len(text)
            if len(text) > limit:
                problems[f"embeds.{i}.{key}"] = _too_long(limit)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems[f"embeds.{i}.fields"] = _too_long(25)
        for j, fld in enumerate(fields):
            total += len(fld.get("name") or "") + len(fld.get("value") or "")
            if len(fld.get("name") or "") > 256:
                problems[f"embeds.{i}.fields.{j}.name"] = _too_long(256)
            if len(fld.get("value") or "") > 1024:
                problems[f"embeds.{i}.fields.{j}.value"] = _too_long(1024)
        total += len((embed.get("footer") or {}).get("text") or "")
        total += len((embed.get("author") or {}).get("name") or "")
    if total > 6000:
        problems["embeds"] = ("BASE_TYPE_MAX_LENGTH", "Embed size exceeds maximum size of 6000")
    return problems


def message_problems(body: dict[str, Any], *, files: int = 0) -> web.Response | None:
    """The error Discord gives for this message body, or None if it is fine."""
    problems: dict[str, tuple[str, str]] = {}
    content = body.get("content")
    if isinstance(content, str) and len(content) > 2000:
        problems["content"] = _too_long(2000)
    problems.update(_embed_problems(body.get("embeds") or []))
    components = body.get("components") or []
    if not int(body.get("flags") or 0) & IS_COMPONENTS_V2 and len(components) > 5:
        problems["components"] = _too_long(5)
    for i, row in enumerate(components):
        for j, item in enumerate(row.get("components") or []):
            if len(item.get("custom_id") or "") > 100:
                problems[f"components.{i}.components.{j}.custom_id"] = _too_long(100)
            if len(item.get("label") or "") > 80:
                problems[f"components.{i}.components.{j}.label"] = _too_long(80)
    if problems:
        return form_error(problems)
    empty = not (content or "").strip() and not any(
        body.get(k) for k in ("embeds", "components", "sticker_ids", "poll", "attachments")
    )
    if empty and not files:
        return error(400, "Cannot send an empty message", 50006)
    return None


Handler = Callable[..., Awaitable[web.StreamResponse]]


class RestRoutes:
    """REST state and handlers. `FakeDiscord` supplies the world."""

    token: str
    application_id: int
    bot_user_id: int
    guild_id: int
    root_url: str
    gateway_url: str
    echo_bot_messages: bool
    interaction_ack_seconds: float | None

    # supplied by FakeDiscord / GatewaySessions
    _notify: Callable[[], None]
    _emit: Callable[[str, dict[str, Any]], Awaitable[int]]
    _bot_user: Callable[[], dict[str, Any]]
    _application_flags: Callable[[], int]
    _channel: Callable[[int], dict[str, Any] | None]
    _user: Callable[[int], dict[str, Any]]
    _members: dict[int, dict[str, Any]]
    _known: dict[int, dict[str, Any]]
    _interactions: dict[int, _Interaction]

    def _init_rest(self) -> None:
        self.rest_calls: list[RestCall] = []
        self.messages: dict[int, dict[int, dict[str, Any]]] = {}
        self.threads: dict[int, dict[str, Any]] = {}
        self.interaction_callbacks: list[dict[str, Any]] = []
        self.followups: list[dict[str, Any]] = []
        self.command_syncs: list[tuple[int | None, list[dict[str, Any]]]] = []
        self._commands: dict[int | None, list[dict[str, Any]]] = {}
        self._rate_limits: list[_RateLimit] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (m, re.compile(p), h) for m, p, h in self._route_table()
        ]

    def rate_limit(
        self,
        method: str,
        path_regex: str,
        *,
        times: int = 1,
        retry_after: float = 0.5,
        is_global: bool = False,
    ) -> None:
        """The next `times` calls of `method` on a path matching `path_regex` (fullmatch,
        after /api/v10) answer 429 with ``retry_after`` and the headers discord.py
        needs to retry (``Via``, ``Retry-After``, ``X-RateLimit-*``)."""
        self._rate_limits.append(
            _RateLimit(method.upper(), re.compile(path_regex), times, retry_after, is_global)
        )

    # --- the entry point ---------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = request.path[len(API_PREFIX) :] or "/"
        body, files = await self._read_body(request)
        call = RestCall(
            request.method,
            path,
            body,
            dict(request.headers),
            time.monotonic(),
            dict(request.query),
        )
        self.rest_calls.append(call)
        try:
            return await self._answer(request, call, files)
        finally:
            # After the handler, so a waiter woken by this call also sees its effects.
            self._notify()

    async def _answer(
        self, request: web.Request, call: RestCall, files: list[dict[str, Any]]
    ) -> web.StreamResponse:
        token_in_path = call.path.startswith(("/interactions/", "/webhooks/"))
        if not token_in_path and request.headers.get("Authorization") != f"Bot {self.token}":
            return error(401, "401: Unauthorized", 0)
        limited = self._take_rate_limit(call)
        if limited is not None:
            return limited
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(call.path)
            if match and method == call.method:
                return await handler(call, files, *match.groups())
        return error(404, "404: Not Found", 0)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        files: list[dict[str, Any]] = []
        if request.content_type == "multipart/form-data":
            body: Any = None
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":
                    body = json.loads(await part.text())  # type: ignore[union-attr]
                else:
                    data = await part.read()  # type: ignore[union-attr]
                    files.append(
                        {
                            "filename": part.filename or "file",  # type: ignore[union-attr]
                            "size": len(data),
                            "content_type": part.headers.get(
                                "Content-Type", "application/octet-stream"
                            ),
                        }
                    )
            return body, files
        text = await request.text()
        if not text.strip():
            return None, files
        try:
            return json.loads(text), files
        except ValueError:
            return text, files

    def _take_rate_limit(self, call: RestCall) -> web.Response | None:
        for rule in self._rate_limits:
            if rule.times > 0 and rule.method == call.method and rule.pattern.fullmatch(call.path):
                rule.times -= 1
                headers = {
                    "Via": "1.1 google",
                    "Retry-After": str(math.ceil(rule.retry_after)),
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + rule.retry_after:.3f}",
                    "X-RateLimit-Reset-After": f"{rule.retry_after:.3f}",
                    "X-RateLimit-Bucket": f"fake{abs(hash(rule.pattern.pattern)) % 10**8:08d}",
                    "X-RateLimit-Scope": "global" if rule.is_global else "user",
                }
                if rule.is_global:
                    headers["X-RateLimit-Global"] = "true"
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": rule.retry_after,
                    "global": rule.is_global,
                }
                return reply(body, 429, headers)
        return None

    def _route_table(self) -> list[tuple[str, str, Handler]]:
        msg = r"/channels/(\d+)/messages/(\d+)"
        hook = r"/webhooks/(\d+)/([^/]+)"
        return [
            ("GET", r"/users/@me", self._get_me),
            ("GET", r"/users/(\d+)", self._get_user),
            ("GET", r"/oauth2/applications/@me", self._get_application),
            ("GET", r"/applications/@me", self._get_application),
            ("GET", r"/gateway", self._get_gateway),
            ("GET", r"/gateway/bot", self._get_gateway),
            ("GET", r"/guilds/(\d+)/members/(\d+)", self._get_member),
            ("GET", r"/channels/(\d+)", self._get_channel),
            ("PATCH", r"/channels/(\d+)", self._patch_channel),
            ("POST", r"/channels/(\d+)/typing", self._no_content),
            ("POST", r"/channels/(\d+)/messages", self._post_message),
            ("GET", msg, self._get_message),
            ("PATCH", msg, self._edit_message),
            ("DELETE", msg, self._delete_message),
            ("PUT", msg + r"/reactions/([^/]+)/@me", self._react),
            ("DELETE", msg + r"/reactions/([^/]+)/@me", self._react),
            ("POST", msg + r"/threads", self._thread_from_message),
            ("POST", r"/channels/(\d+)/threads", self._thread_without_message),
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self._callback),
            ("POST", hook, self._followup),
            ("GET", hook + r"/messages/(@original|\d+)", self._get_webhook_message),
            ("PATCH", hook + r"/messages/(@original|\d+)", self._edit_webhook_message),
            ("DELETE", hook + r"/messages/(@original|\d+)", self._delete_webhook_message),
            ("PUT", r"/applications/(\d+)/commands", self._put_commands),
            ("GET", r"/applications/(\d+)/commands", self._get_commands),
            ("PUT", r"/applications/(\d+)/guilds/(\d+)/commands", self._put_commands),
            ("GET", r"/applications/(\d+)/guilds/(\d+)/commands", self._get_commands),
        ]

    # --- identity ----------------------------------------------------------------------
    async def _get_me(self, call: RestCall, files: list[Any]) -> web.Response:
        return reply({**self._bot_user(), "flags": 0, "verified": True, "mfa_enabled": False})

    async def _get_user(self, call: RestCall, files: list[Any], user_id: str) -> web.Response:
        if int(user_id) not in self._members and int(user_id) != self.bot_user_id:
            return error(404, "Unknown User", 10013)
        return reply(self._user(int(user_id)))

    async def _get_member(
        self, call: RestCall, files: list[Any], guild_id: str, user_id: str
    ) -> web.Response:
        found = self._members.get(int(user_id))
        if int(guild_id) != self.guild_id or found is None:
            return error(404, "Unknown Member", 10007)
        return reply(found)

    async def _get_application(self, call: RestCall, files: list[Any]) -> web.Response:
        return reply(
            {
                "id": str(self.application_id),
                "name": "supportbot",
                "description": "A support bot (fake Discord)",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": dp.user(5000, "acme-owner"),
                "verify_key": "abc",
                "flags": self._application_flags(),
                "summary": "",
                "team": None,
                "bot": self._bot_user(),
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": 1,
            }
        )

    async def _get_gateway(self, call: RestCall, files: list[Any]) -> web.Response:
        return reply(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _no_content(self, call: RestCall, files: list[Any], *_: str) -> web.Response:
        return web.Response(status=204)

    # --- channels and threads ------------------------------------------------------------
    async def _get_channel(self, call: RestCall, files: list[Any], cid: str) -> web.Response:
        channel = self._channel(int(cid))
        return reply(channel) if channel else error(404, "Unknown Channel", 10003)

    async def _patch_channel(self, call: RestCall, files: list[Any], cid: str) -> web.Response:
        channel = self._channel(int(cid))
        body = call.json or {}
        if channel is None:
            return error(404, "Unknown Channel", 10003)
        if "name" in body and not 1 <= len(body["name"] or "") <= 100:
            return form_error(
                {"name": ("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")}
            )
        for key in ("name", "topic", "rate_limit_per_user", "flags"):
            if key in body:
                channel[key] = body[key]
        meta = channel.get("thread_metadata")
        if meta is not None:
            for key in ("archived", "locked", "auto_archive_duration", "invitable"):
                if key in body:
                    meta[key] = body[key]
            if "archived" in body:
                meta["archive_timestamp"] = dp.timestamp()
        await self._emit("THREAD_UPDATE" if meta is not None else "CHANNEL_UPDATE", channel)
        return reply(channel)

    async def _thread_from_message(
        self, call: RestCall, files: list[Any], cid: str, mid: str
    ) -> web.Response:
        body = call.json or {}
        channel = self._channel(int(cid))
        if channel is None:
            return error(404, "Unknown Channel", 10003)
        if channel["type"] not in (0, 5):
            return error(400, "Cannot execute action on this channel type", 50024)
        message = self._known.get(int(mid))
        if message is None or message["channel_id"] != cid:
            return error(404, "Unknown Message", 10008)
        if int(mid) in self.threads or self._channel(int(mid)) is not None:
            return error(400, "A thread has already been created for this message", 160004)
        return await self._new_thread(int(mid), int(cid), body, starter=message)

    async def _thread_without_message(
        self, call: RestCall, files: list[Any], cid: str
    ) -> web.Response:
        body = call.json or {}
        channel = self._channel(int(cid))
        if channel is None:
            return error(404, "Unknown Channel", 10003)
        if channel["type"] not in (0, 5):
            return error(400, "Cannot execute action on this channel type", 50024)
        return await self._new_thread(dp.snowflake(), int(cid), body, starter=None)

    async def _new_thread(
        self,
        thread_id: int,
        parent_id: int,
        body: dict[str, Any],
        *,
        starter: dict[str, Any] | None,
    ) -> web.Response:
        name = body.get("name") or ""
        archive = body.get("auto_archive_duration", 1440)
        problems: dict[str, tuple[str, str]] = {}
        if not 1 <= len(name) <= 100:
            problems["name"] = ("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        if archive not in THREAD_ARCHIVE_MINUTES:
            problems["auto_archive_duration"] = (
                "BASE_TYPE_CHOICES",
                f"Value must be one of {set(THREAD_ARCHIVE_MINUTES)}.",
            )
        if problems:
            return form_error(problems)
        thread = dp.thread_channel(
            thread_id,
            parent_id,
            guild_id=self.guild_id,
            name=name,
            owner_id=self.bot_user_id,
            auto_archive_duration=archive,
            private=starter is None and body.get("type", 12) == 12,
        )
        thread["rate_limit_per_user"] = body.get("rate_limit_per_user") or 0
        thread["member"] = {
            "id": str(thread_id),
            "user_id": str(self.bot_user_id),
            "join_timestamp": dp.timestamp(),
            "flags": 1,
        }
        self.threads[thread_id] = thread
        if starter is not None:
            starter["thread"] = thread
        await self._emit("THREAD_CREATE", {**thread, "newly_created": True})
        return reply(thread, 201)

    # --- messages ------------------------------------------------------------------------
    def _new_message(
        self,
        channel_id: int,
        body: dict[str, Any],
        files: list[dict[str, Any]],
        *,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        allowed = body.get("allowed_mentions")
        content = body.get("content") or ""
        user_ids, role_ids, everyone = dp.resolve_mentions(content, allowed)
        message = dp.message_object(
            message_id=message_id or dp.snowflake(),
            channel_id=channel_id,
            content=content,
            author=self._bot_user(),
            guild_id=self.guild_id,
            embeds=[{"type": "rich", **e} for e in body.get("embeds") or []],
            components=body.get("components") or [],
            mentions=[self._user(u) for u in user_ids],
            mention_roles=role_ids,
            mention_everyone=everyone,
            attachments=[
                {
                    **f,
                    "id": str(dp.snowflake()),
                    "url": f"{self.root_url}/attachments/{channel_id}/{f['filename']}",
                    "proxy_url": f"{self.root_url}/attachments/{channel_id}/{f['filename']}",
                }
                for f in files
            ],
            flags=int(body.get("flags") or 0) & MESSAGE_FLAGS_KEPT,
        )
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        return message

    async def _post_message(self, call: RestCall, files: list[Any], cid: str) -> web.Response:
        body = call.json or {}
        channel = self._channel(int(cid))
        if channel is None:
            return error(404, "Unknown Channel", 10003)
        meta = channel.get("thread_metadata")
        if meta is not None and meta["archived"] and meta.get("locked"):
            return error(400, "Thread is archived", 50083)
        problem = message_problems(body, files=len(files))
        if problem is not None:
            return problem
        message = self._new_message(int(cid), body, files)
        ref = body.get("message_reference")
        if ref:
            referenced = self._known.get(int(ref.get("message_id", 0)))
            if referenced is None and ref.get("fail_if_not_exists", True):
                return form_error(
                    {"message_reference": ("MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")}
                )
            message["message_reference"] = {"type": 0, **ref}
            if referenced is not None:
                message["type"] = 19  # a reply
                message["referenced_message"] = referenced
                if (body.get("allowed_mentions") or {}).get(
                    "replied_user", "allowed_mentions" not in body
                ):
                    message["mentions"].append(referenced["author"])
        if meta is not None:
            if meta["archived"]:  # a message unarchives an unlocked thread
                meta["archived"] = False
                await self._emit("THREAD_UPDATE", channel)
            channel["message_count"] += 1
            channel["total_message_sent"] = channel.get("total_message_sent", 0) + 1
        self.messages.setdefault(int(cid), {})[int(message["id"])] = message
        self._known[int(message["id"])] = message
        if self.echo_bot_messages:
            await self._emit("MESSAGE_CREATE", {**message, "member": self._bot_partial_member()})
        return reply(message)

    def _bot_partial_member(self) -> dict[str, Any]:
        # MESSAGE_CREATE carries the author's member without its "user" (that is "author")
        return {k: v for k, v in self._members[self.bot_user_id].items() if k != "user"}

    def _find(self, cid: str, mid: str) -> dict[str, Any] | None:
        message = self._known.get(int(mid))
        return message if message is not None and message["channel_id"] == cid else None

    async def _get_message(
        self, call: RestCall, files: list[Any], cid: str, mid: str
    ) -> web.Response:
        message = self._find(cid, mid)
        return reply(message) if message else error(404, "Unknown Message", 10008)

    def _apply_edit(
        self, message: dict[str, Any], body: dict[str, Any], files: list[Any]
    ) -> web.Response | dict[str, Any]:
        """The edited copy of `message`, or the error Discord would give."""
        merged = dict(message)
        for key in ("content", "embeds", "components", "attachments"):
            if key in body:
                merged[key] = (
                    body[key] if body[key] is not None else ([] if key != "content" else "")
                )
        if "flags" in body:
            merged["flags"] = (int(body["flags"] or 0) & MESSAGE_FLAGS_KEPT) | (
                int(message.get("flags", 0)) & EPHEMERAL
            )
        problem = message_problems(merged, files=len(files))
        if problem is not None:
            return problem
        merged["embeds"] = [{"type": "rich", **e} for e in merged.get("embeds") or []]
        if "content" in body:
            users, roles, everyone = dp.resolve_mentions(
                merged["content"], body.get("allowed_mentions")
            )
            merged.update(
                mentions=[self._user(u) for u in users],
                mention_roles=[str(r) for r in roles],
                mention_everyone=everyone,
            )
        merged["edited_timestamp"] = dp.timestamp()
        return merged

    async def _edit_message(
        self, call: RestCall, files: list[Any], cid: str, mid: str
    ) -> web.Response:
        message = self._find(cid, mid)
        if message is None:
            return error(404, "Unknown Message", 10008)
        if message["author"]["id"] != str(self.bot_user_id):
            return error(403, "Cannot edit a message authored by another user", 50005)
        edited = self._apply_edit(message, call.json or {}, files)
        if isinstance(edited, web.Response):
            return edited
        self._store_edit(edited)
        await self._emit("MESSAGE_UPDATE", {**edited, "member": self._bot_partial_member()})
        return reply(edited)

    def _store_edit(self, edited: dict[str, Any]) -> None:
        mid, cid = int(edited["id"]), int(edited["channel_id"])
        self._known[mid] = edited
        self.messages.setdefault(cid, {})[mid] = edited

    async def _delete_message(
        self, call: RestCall, files: list[Any], cid: str, mid: str
    ) -> web.Response:
        if self._find(cid, mid) is None:
            return error(404, "Unknown Message", 10008)
        self._known.pop(int(mid))
        self.messages.get(int(cid), {}).pop(int(mid), None)
        await self._emit(
            "MESSAGE_DELETE", {"id": mid, "channel_id": cid, "guild_id": str(self.guild_id)}
        )
        return web.Response(status=204)

    async def _react(
        self, call: RestCall, files: list[Any], cid: str, mid: str, emoji: str
    ) -> web.Response:
        if self._find(cid, mid) is None:
            return error(404, "Unknown Message", 10008)
        return web.Response(status=204)

    # --- interactions --------------------------------------------------------------------
    def _interaction_message(
        self, it: _Interaction, body: dict[str, Any], *, flags: int, message_id: int | None = None
    ) -> dict[str, Any]:
        payload = it.payload
        message = self._new_message(int(payload["channel_id"]), body, [], message_id=message_id)
        message["flags"] = flags
        message["webhook_id"] = str(self.application_id)
        message["application_id"] = str(self.application_id)
        message["interaction_metadata"] = {
            "id": payload["id"],
            "type": payload["type"],
            "user": (payload.get("member") or {}).get("user") or payload.get("user"),
            "authorizing_integration_owners": payload.get("authorizing_integration_owners", {}),
        }
        if message["flags"] & EPHEMERAL == 0:
            self._known[int(message["id"])] = message
        return message

    async def _callback(
        self, call: RestCall, files: list[Any], iid: str, token: str
    ) -> web.Response:
        it = self._interactions.get(int(iid))
        if it is None or it.payload["token"] != token:
            return error(404, "Unknown interaction", 10062)
        late = self.interaction_ack_seconds is not None and (
            time.monotonic() - it.at > self.interaction_ack_seconds
        )
        if late:
            return error(404, "Unknown interaction", 10062)
        if it.callback is not None:
            return error(400, "Interaction has already been acknowledged.", 40060)
        body = call.json or {}
        kind, itype = body.get("type"), it.payload["type"]
        if kind not in CALLBACK_TYPES.get(itype, set()):
            return form_error(
                {
                    "type": (
                        "BASE_TYPE_CHOICES",
                        "Interaction callback type is not valid for this interaction.",
                    )
                }
            )
        data = body.get("data") or {}
        flags = int(data.get("flags") or 0)
        answer: dict[str, Any] = {"id": iid, "type": itype}
        resource: dict[str, Any] = {"type": kind}
        if kind == 4:
            problem = message_problems(data, files=len(files))
            if problem is not None:
                return problem
            it.original = self._interaction_message(
                it, data, flags=flags & (EPHEMERAL | MESSAGE_FLAGS_KEPT)
            )
            resource["message"] = it.original
        elif kind == 5:
            it.original = self._interaction_message(it, {}, flags=LOADING | (flags & EPHEMERAL))
            it.awaiting_followup = True
        elif kind == 7:
            on = it.payload.get("message")
            if on is None:  # a modal submitted from a slash command has no message to update
                return error(400, "Interaction has no message to update", 50035)
            target = self._known.get(int(on["id"])) or on
            edited = self._apply_edit(target, data, files)
            if isinstance(edited, web.Response):
                return edited
            self._store_edit(edited)
            resource["message"] = edited
        if it.original is not None:
            answer.update(
                response_message_id=it.original["id"],
                response_message_loading=kind == 5,
                response_message_ephemeral=bool(it.original["flags"] & EPHEMERAL),
            )
        it.callback = kind
        self.interaction_callbacks.append({**body, "interaction_id": iid, "token": token})
        if call.query.get("with_response", "").lower() not in ("1", "true"):
            return web.Response(status=204)
        return reply({"interaction": answer, "resource": resource})

    def _webhook_interaction(self, app_id: str, token: str) -> _Interaction | None:
        if int(app_id) != self.application_id:
            return None
        for it in self._interactions.values():
            if it.payload["token"] == token and it.callback is not None:
                return it
        return None

    async def _followup(
        self, call: RestCall, files: list[Any], app_id: str, token: str
    ) -> web.Response:
        it = self._webhook_interaction(app_id, token)
        if it is None:  # also before the first response: it must be acknowledged first
            return error(404, "Unknown Webhook", 10015)
        body = call.json or {}
        problem = message_problems(body, files=len(files))
        if problem is not None:
            return problem
        flags = int(body.get("flags") or 0)
        if it.awaiting_followup and it.original is not None:
            # The first follow-up after a defer fills the "thinking" message; that message
            # is ephemeral or not as the defer said, whatever this body's flags say.
            message = self._interaction_message(
                it,
                body,
                flags=(it.original["flags"] & EPHEMERAL) | (flags & MESSAGE_FLAGS_KEPT),
                message_id=int(it.original["id"]),
            )
            it.original, it.awaiting_followup = message, False
        else:
            message = self._interaction_message(
                it, body, flags=flags & (EPHEMERAL | MESSAGE_FLAGS_KEPT)
            )
        self.followups.append({**body, "token": token})
        if call.query.get("wait", "").lower() not in ("1", "true"):
            return web.Response(status=204)
        return reply(message)

    def _webhook_target(self, it: _Interaction, which: str) -> dict[str, Any] | None:
        if which == "@original":
            return it.original
        return self._known.get(int(which))

    async def _get_webhook_message(
        self, call: RestCall, files: list[Any], app_id: str, token: str, which: str
    ) -> web.Response:
        it = self._webhook_interaction(app_id, token)
        if it is None:
            return error(404, "Unknown Webhook", 10015)
        target = self._webhook_target(it, which)
        return reply(target) if target else error(404, "Unknown Message", 10008)

    async def _edit_webhook_message(
        self, call: RestCall, files: list[Any], app_id: str, token: str, which: str
    ) -> web.Response:
        it = self._webhook_interaction(app_id, token)
        if it is None:
            return error(404, "Unknown Webhook", 10015)
        target = self._webhook_target(it, which)
        if target is None:
            return error(404, "Unknown Message", 10008)
        body = call.json or {}
        edited = self._apply_edit(target, body, files)
        if isinstance(edited, web.Response):
            return edited
        edited["flags"] = int(edited["flags"]) & ~LOADING
        if which == "@original" or edited["id"] == (it.original or {}).get("id"):
            it.original, it.awaiting_followup = edited, False
        if not edited["flags"] & EPHEMERAL:
            self._known[int(edited["id"])] = edited
        record = {**body, "token": token, "edit": True}
        if which != "@original":
            record["message_id"] = which
        self.followups.append(record)
        return reply(edited)

    async def _delete_webhook_message(
        self, call: RestCall, files: list[Any], app_id: str, token: str, which: str
    ) -> web.Response:
        it = self._webhook_interaction(app_id, token)
        if it is None:
            return error(404, "Unknown Webhook", 10015)
        target = self._webhook_target(it, which)
        if target is None:
            return error(404, "Unknown Message", 10008)
        self._known.pop(int(target["id"]), None)
        if which == "@original":
            it.original = None
        return web.Response(status=204)

    # --- application commands ----------------------------------------------------------
    async def _put_commands(
        self, call: RestCall, files: list[Any], app_id: str, guild_id: str | None = None
    ) -> web.Response:
        if int(app_id) != self.application_id:
            return error(403, "Missing Access", 50001)
        scope = None if guild_id is None else int(guild_id)
        if scope is not None and scope != self.guild_id:
            return error(403, "Missing Access", 50001)
        commands = call.json if isinstance(call.json, list) else []
        problems: dict[str, tuple[str, str]] = {}
        seen: set[tuple[str, int]] = set()
        for i, command in enumerate(commands):
            name, kind = command.get("name") or "", command.get("type", 1)
            if not 1 <= len(name) <= 32 or (kind == 1 and not re.fullmatch(r"[-_'\w]+", name)):
                problems[f"{i}.name"] = (
                    "APPLICATION_COMMAND_INVALID_NAME",
                    "Command name is invalid",
                )
            if kind == 1 and name != name.lower():
                problems[f"{i}.name"] = (
                    "APPLICATION_COMMAND_INVALID_NAME",
                    "Command name is invalid",
                )
            if kind == 1 and not 1 <= len(command.get("description") or "") <= 100:
                problems[f"{i}.description"] = (
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                )
            if len(command.get("options") or []) > 25:
                problems[f"{i}.options"] = _too_long(25)
            if (name, kind) in seen:
                problems[f"{i}.name"] = (
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                )
            seen.add((name, kind))
        if len(commands) > 100:
            problems["_"] = _too_long(100)
        if problems:
            return form_error(problems)
        before = {(c["name"], c["type"]): c["id"] for c in self._commands.get(scope, [])}
        echoed = []
        for command in commands:
            kind = command.get("type", 1)
            out = {
                "id": before.get((command["name"], kind)) or str(dp.snowflake()),
                "application_id": str(self.application_id),
                "version": str(dp.snowflake()),
                "type": kind,
                "name": command["name"],
                "description": command.get("description", ""),
                "options": command.get("options", []),
                "default_member_permissions": command.get("default_member_permissions"),
                "dm_permission": command.get("dm_permission", True),
                "nsfw": command.get("nsfw", False),
                "contexts": command.get("contexts"),
                "integration_types": command.get("integration_types", [0]),
                "name_localizations": command.get("name_localizations"),
                "description_localizations": command.get("description_localizations"),
            }
            if scope is not None:
                out["guild_id"] = str(scope)
            echoed.append(out)
        self._commands[scope] = echoed
        self.command_syncs.append((scope, commands))
        return reply(echoed)

    async def _get_commands(
        self, call: RestCall, files: list[Any], app_id: str, guild_id: str | None = None
    ) -> web.Response:
        if int(app_id) != self.application_id:
            return error(403, "Missing Access", 50001)
        return reply(self._commands.get(None if guild_id is None else int(guild_id), []))
