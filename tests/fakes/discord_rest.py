"""The REST half of the fake Discord (mixed into `FakeDiscord`), under ``/api/v10``.

Only what the Discord adapter calls: login (``/users/@me``,
``/oauth2/applications/@me``, ``/gateway/bot``), creating and editing messages,
starting a thread from a message, syncing application commands, interaction
callbacks (messages, defers, modals) and webhook follow-ups; the bot's reactions and
the typing indicator are in `tests.fakes.discord_reactions`.

Every request meets, in order: recording in ``rest_calls`` (failed ones too); the
token check (``Authorization: Bot <token>``; interaction callbacks and webhooks carry
their token in the path instead) -> 401; a scripted `rate_limit` -> 429; then its
route, or 404 ``{"message": "404: Not Found", "code": 0}``.

Errors are Discord's own: 10003 Unknown Channel, 10008 Unknown Message, 10015 Unknown
Webhook, 10062 Unknown interaction (also after ``interaction_ack_seconds``), 40060
already acknowledged, 50005 editing another user's message, 50006 empty message,
50035 Invalid Form Body (content over 2000 characters, embed and component limits,
bad thread names or archive durations, bad command names or descriptions, modal titles
over 45 and text inputs over 4000 or their max_length), 160004 thread already
created for this message.

A message sent with SUPPRESS_EMBEDS (``flags`` 1 << 2) keeps the flag and loses its
embeds, its own included, as on Discord.

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
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
# interaction type -> the callback types Discord accepts for it
CALLBACK_TYPES = {2: {4, 5, 9, 10, 12}, 3: {4, 5, 6, 7, 9, 10, 12}, 5: {4, 5, 6, 7}}
IMPLEMENTED_CALLBACKS = {4, 5, 6, 9}  # message, deferred message, deferred update, modal
TOO_LONG = "BASE_TYPE_MAX_LENGTH"


@dataclass(frozen=True)
class RestCall:
    """One REST request the fake received."""

    method: str
    path: str  # after /api/v10, e.g. "/channels/300/messages"
    json: Any  # the JSON body, None if none
    headers: dict[str, str]
    at: float  # time.monotonic() when received
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class _RateLimit:
    method: str
    pattern: re.Pattern[str]
    times: int
    retry_after: float


@dataclass
class _Interaction:
    """An interaction the fake dispatched, and what the bot did with it."""

    payload: dict[str, Any]
    at: float
    callback: int | None = None  # the callback type, once answered
    original: dict[str, Any] | None = None  # the response message, if any
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
    return (TOO_LONG, f"Must be {limit} or fewer in length.")


def message_problems(body: dict[str, Any]) -> web.Response | None:
    """The error Discord gives for this message body, or None if it is fine."""
    problems: dict[str, tuple[str, str]] = {}

    def check(path: str, value: Any, limit: int) -> int:
        size = len(value or "")
        if size > limit:
            problems[path] = _too_long(limit)
        return size

    content = body.get("content")
    check("content", content if isinstance(content, str) else "", 2000)
    embeds = body.get("embeds") or []
    check("embeds", embeds, 10)
    total = 0
    for i, embed in enumerate(embeds):
        total += check(f"embeds.{i}.title", embed.get("title"), 256)
        total += check(f"embeds.{i}.description", embed.get("description"), 4096)
        check(f"embeds.{i}.fields", embed.get("fields"), 25)
        for j, fld in enumerate(embed.get("fields") or []):
            total += check(f"embeds.{i}.fields.{j}.name", fld.get("name"), 256)
            total += check(f"embeds.{i}.fields.{j}.value", fld.get("value"), 1024)
    if total > 6000:
        problems["embeds"] = (TOO_LONG, "Embed size exceeds maximum size of 6000")
    rows = body.get("components") or []
    check("components", rows, 5)
    for i, row in enumerate(rows):
        for j, item in enumerate(row.get("components") or []):
            check(f"components.{i}.components.{j}.custom_id", item.get("custom_id"), 100)
            check(f"components.{i}.components.{j}.label", item.get("label"), 80)
    if problems:
        return form_error(problems)
    if not (content or "").strip() and not any(body.get(k) for k in ("embeds", "components")):
        return error(400, "Cannot send an empty message", 50006)
    return None


def modal_problems(data: dict[str, Any]) -> web.Response | None:
    """The error Discord gives for a modal (callback type 9), or None if it is fine."""
    problems: dict[str, tuple[str, str]] = {}
    if not data.get("custom_id") or not 1 <= len(data.get("title") or "") <= 45:
        problems["data.title"] = _too_long(45)
    rows = data.get("components") or []
    if not 1 <= len(rows) <= 5:
        problems["data.components"] = ("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5.")
    for i, row in enumerate(rows):  # a label (18) holds one input; an action row, a list
        for item in [row["component"]] if row.get("type") == 18 else row.get("components", []):
            limit = min(int(item.get("max_length") or 4000), 4000)
            if len(item.get("value") or "") > limit:
                problems[f"data.components.{i}.value"] = _too_long(limit)
    return form_error(problems) if problems else None


def _mentions(content: str, allowed: dict[str, Any] | None) -> dict[str, Any]:
    """Whom a message the bot posts pings, as Discord resolves it under
    ``allowed_mentions`` (none given: everything in the content is parsed)."""
    allowed = allowed if allowed is not None else {"parse": ["users", "roles", "everyone"]}
    parse = set(allowed.get("parse") or [])

    def pinged(pattern: str, kind: str) -> list[int]:
        listed = {int(i) for i in allowed.get(kind) or []}
        found = [int(i) for i in dict.fromkeys(re.findall(pattern, content))]
        return [i for i in found if kind in parse or i in listed]

    return {
        "mentions": [dp.user(u) for u in pinged(r"<@!?(\d+)>", "users")],
        "mention_roles": [str(r) for r in pinged(r"<@&(\d+)>", "roles")],
        "mention_everyone": "everyone" in parse and ("@everyone" in content or "@here" in content),
    }


def _command_problems(items: list[dict[str, Any]], path: str = "") -> dict[str, tuple[str, str]]:
    """Discord's checks on the names (lower-case words, 1-32) and descriptions (1-100) of
    chat input commands and of all their options, subcommands included."""
    problems: dict[str, tuple[str, str]] = {}
    for i, item in enumerate(items):
        at, name = f"{path}{i}", item.get("name") or ""
        if path or item.get("type", 1) == 1:  # context menu commands have free names
            if not re.fullmatch(r"[-_'\w]{1,32}", name) or name != name.lower():
                problems[f"{at}.name"] = ("APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
            if not 1 <= len(item.get("description") or "") <= 100:
                problems[f"{at}.description"] = ("BASE_TYPE_BAD_LENGTH", "Must be 1-100 long.")
        problems.update(_command_problems(item.get("options") or [], f"{at}.options."))
    return problems


Handler = Callable[..., Awaitable[web.StreamResponse]]


class RestRoutes:
    """REST state and handlers. `FakeDiscord` supplies the world."""

    # FakeDiscord supplies the world (token, ids, _known, _interactions, _channel(),
    # _bot_user(), _bot_member(), _application_flags(), _notify()) and the gateway _emit().
    token: str
    application_id: int
    bot_user_id: int
    guild_id: int
    gateway_url: str
    interaction_ack_seconds: float | None
    _known: dict[int, dict[str, Any]]
    _interactions: dict[int, _Interaction]
    _notify: Callable[[], None]
    _emit: Callable[[str, dict[str, Any]], Awaitable[int]]
    _bot_user: Callable[[], dict[str, Any]]
    _bot_member: Callable[[], dict[str, Any]]
    _application_flags: Callable[[], int]
    _channel: Callable[[int], dict[str, Any] | None]

    def _init_rest(self) -> None:
        self.rest_calls: list[RestCall] = []
        self.messages: dict[int, dict[int, dict[str, Any]]] = {}
        self.edits: list[dict[str, Any]] = []  # {"channel_id", "message_id", "content"}
        self.threads: dict[int, dict[str, Any]] = {}
        self.interaction_callbacks: list[dict[str, Any]] = []
        self.followups: list[dict[str, Any]] = []
        self.command_syncs: list[tuple[int | None, list[dict[str, Any]]]] = []
        self._commands: dict[int | None, list[dict[str, Any]]] = {}
        self._rate_limits: list[_RateLimit] = []
        msg, hook = r"/channels/(\d+)/messages", r"/webhooks/(\d+)/([^/]+)"
        table: list[tuple[str, str, Handler]] = [
            ("GET", r"/users/@me", self._get_me),
            ("GET", r"/oauth2/applications/@me", self._get_application),
            ("GET", r"/gateway/bot", self._get_gateway_bot),
            ("POST", msg, self._post_message),
            ("PATCH", msg + r"/(\d+)", self._edit_message),
            ("POST", msg + r"/(\d+)/threads", self._thread_from_message),
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self._callback),
            ("POST", hook, self._followup),
            ("PUT", r"/applications/(\d+)/commands", self._put_commands),
            ("PUT", r"/applications/(\d+)/guilds/(\d+)/commands", self._put_commands),
        ]
        self._routes = [(m, re.compile(p), h) for m, p, h in table]

    def rate_limit(
        self,
        method: str,
        path_regex: str,
        *,
        times: int = 1,
        retry_after: float = 0.5,
    ) -> None:
        """The next `times` calls of `method` on a path matching `path_regex` (fullmatch,
        after /api/v10) answer 429 with ``retry_after`` and the headers discord.py
        needs to retry (``Via``, ``Retry-After``, ``X-RateLimit-*``)."""
        self._rate_limits.append(
            _RateLimit(method.upper(), re.compile(path_regex), times, retry_after)
        )

    # --- the entry point ---------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.StreamResponse:
        text = await request.text()
        try:
            body = json.loads(text) if text.strip() else None
        except ValueError:
            body = text
        path = request.path[len(API_PREFIX) :] or "/"
        call = RestCall(
            request.method, path, body, dict(request.headers), time.monotonic(), dict(request.query)
        )
        self.rest_calls.append(call)
        try:
            return await self._answer(request, call)
        finally:
            # After the handler, so a waiter woken by this call also sees its effects.
            self._notify()

    async def _answer(self, request: web.Request, call: RestCall) -> web.StreamResponse:
        token_in_path = call.path.startswith(("/interactions/", "/webhooks/"))
        if not token_in_path and request.headers.get("Authorization") != f"Bot {self.token}":
            return error(401, "401: Unauthorized", 0)
        limited = self._take_rate_limit(call)
        if limited is not None:
            return limited
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(call.path)
            if match and method == call.method:
                return await handler(call, *match.groups())
        return error(404, "404: Not Found", 0)

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
                    "X-RateLimit-Scope": "user",
                }
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": rule.retry_after,
                    "global": False,
                }
                return reply(body, 429, headers)
        return None

    # --- identity ----------------------------------------------------------------------
    async def _get_me(self, call: RestCall) -> web.Response:
        return reply({**self._bot_user(), "flags": 0, "verified": True, "mfa_enabled": False})

    async def _get_application(self, call: RestCall) -> web.Response:
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

    async def _get_gateway_bot(self, call: RestCall) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return reply({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    # --- messages and threads ----------------------------------------------------------
    def _new_message(
        self, channel_id: int, body: dict[str, Any], *, message_id: int | None = None
    ) -> dict[str, Any]:
        content = body.get("content") or ""
        # SUPPRESS_EMBEDS: no link previews, and no embeds at all, the sent ones included.
        suppressed = int(body.get("flags") or 0) & SUPPRESS_EMBEDS
        message = dp.message_object(
            message_id=message_id or dp.snowflake(),
            channel_id=channel_id,
            content=content,
            author=self._bot_user(),
            embeds=[] if suppressed else [{"type": "rich", **e} for e in body.get("embeds") or []],
            components=body.get("components") or [],
            flags=suppressed,
        )
        message.update(_mentions(content, body.get("allowed_mentions")))
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        return message

    def _store(self, message: dict[str, Any]) -> None:
        mid, cid = int(message["id"]), int(message["channel_id"])
        self._known[mid] = message
        self.messages.setdefault(cid, {})[mid] = message

    def _echo(self, event: str, message: dict[str, Any]) -> Awaitable[int]:
        """The bot's own message comes back to it on the gateway, as on Discord."""
        partial = {k: v for k, v in self._bot_member().items() if k != "user"}
        return self._emit(event, {**message, "member": partial})

    async def _post_message(self, call: RestCall, cid: str) -> web.Response:
        body = call.json or {}
        if self._channel(int(cid)) is None:
            return error(404, "Unknown Channel", 10003)
        problem = message_problems(body)
        if problem is not None:
            return problem
        message = self._new_message(int(cid), body)
        self._store(message)
        await self._echo("MESSAGE_CREATE", message)
        return reply(message)

    async def _edit_message(self, call: RestCall, cid: str, mid: str) -> web.Response:
        message = self._known.get(int(mid))
        if message is None or message["channel_id"] != cid:
            return error(404, "Unknown Message", 10008)
        if message["author"]["id"] != str(self.bot_user_id):
            return error(403, "Cannot edit a message authored by another user", 50005)
        body = call.json or {}
        edited = dict(message)
        for key in ("content", "embeds", "components"):
            if key in body:
                edited[key] = (
                    body[key] if body[key] is not None else ("" if key == "content" else [])
                )
        problem = message_problems(edited)
        if problem is not None:
            return problem
        edited["embeds"] = [{"type": "rich", **e} for e in edited["embeds"]]
        if "content" in body:
            edited.update(_mentions(edited["content"], body.get("allowed_mentions")))
        edited["edited_timestamp"] = dp.timestamp()
        self._store(edited)
        self.edits.append(
            {"channel_id": int(cid), "message_id": int(mid), "content": edited["content"]}
        )
        await self._echo("MESSAGE_UPDATE", edited)
        return reply(edited)

    async def _thread_from_message(self, call: RestCall, cid: str, mid: str) -> web.Response:
        body = call.json or {}
        channel = self._channel(int(cid))
        if channel is None:
            return error(404, "Unknown Channel", 10003)
        if channel["type"] not in (0, 5):
            return error(400, "Cannot execute action on this channel type", 50024)
        message = self._known.get(int(mid))
        if message is None or message["channel_id"] != cid:
            return error(404, "Unknown Message", 10008)
        if int(mid) in self.threads:
            return error(400, "A thread has already been created for this message", 160004)
        name, archive = body.get("name") or "", body.get("auto_archive_duration", 1440)
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
        thread = dp.thread_channel(int(mid), int(cid), name=name, auto_archive_duration=archive)
        thread["member"] = {
            "id": mid,
            "user_id": str(self.bot_user_id),
            "join_timestamp": dp.timestamp(),
            "flags": 1,
        }
        self.threads[int(mid)] = thread
        message["thread"] = thread
        await self._emit("THREAD_CREATE", {**thread, "newly_created": True})
        return reply(thread, 201)

    # --- interactions --------------------------------------------------------------------
    def _interaction_message(
        self, it: _Interaction, body: dict[str, Any], *, flags: int, message_id: int | None = None
    ) -> dict[str, Any]:
        payload = it.payload
        message = self._new_message(int(payload["channel_id"]), body, message_id=message_id)
        message.update(
            flags=flags | message["flags"],  # SUPPRESS_EMBEDS, as the body asked
            webhook_id=str(self.application_id),
            application_id=str(self.application_id),
            interaction_metadata={
                "id": payload["id"],
                "type": payload["type"],
                "user": payload["member"]["user"],
                "authorizing_integration_owners": payload["authorizing_integration_owners"],
            },
        )
        if not flags & EPHEMERAL:
            self._known[int(message["id"])] = message
        return message

    async def _callback(self, call: RestCall, iid: str, token: str) -> web.Response:
        it = self._interactions.get(int(iid))
        if it is None or it.payload["token"] != token:
            return error(404, "Unknown interaction", 10062)
        deadline = self.interaction_ack_seconds
        if deadline is not None and time.monotonic() - it.at > deadline:
            return error(404, "Unknown interaction", 10062)
        if it.callback is not None:
            return error(400, "Interaction has already been acknowledged.", 40060)
        body = call.json or {}
        kind, itype = body.get("type"), it.payload["type"]
        if kind not in CALLBACK_TYPES.get(itype, set()):
            invalid = "Interaction callback type is not valid for this interaction."
            return form_error({"type": ("BASE_TYPE_CHOICES", invalid)})
        if kind not in IMPLEMENTED_CALLBACKS:
            return error(400, f"fake Discord does not implement callback type {kind}", 0)
        data = body.get("data") or {}
        flags = int(data.get("flags") or 0) & EPHEMERAL
        if kind == 4:
            problem = message_problems(data)
            if problem is not None:
                return problem
            it.original = self._interaction_message(it, data, flags=flags)
        elif kind == 5:
            it.original = self._interaction_message(it, {}, flags=LOADING | flags)
            it.awaiting_followup = True
        elif kind == 9:
            problem = modal_problems(data)
            if problem is not None:
                return problem
        it.callback = kind
        self.interaction_callbacks.append({**body, "interaction_id": iid, "token": token})
        if call.query.get("with_response", "").lower() not in ("1", "true"):
            return web.Response(status=204)  # discord.py 2.7 always asks for the response
        answer: dict[str, Any] = {"id": iid, "type": itype}
        resource: dict[str, Any] = {"type": kind}
        if it.original is not None:
            answer.update(
                response_message_id=it.original["id"],
                response_message_loading=kind == 5,
                response_message_ephemeral=bool(it.original["flags"] & EPHEMERAL),
            )
            if kind == 4:
                resource["message"] = it.original
        return reply({"interaction": answer, "resource": resource})

    async def _followup(self, call: RestCall, app_id: str, token: str) -> web.Response:
        answered = [i for i in self._interactions.values() if i.callback is not None]
        it = next((i for i in answered if i.payload["token"] == token), None)
        if int(app_id) != self.application_id or it is None:
            # also before the first response: an interaction must be acknowledged first
            return error(404, "Unknown Webhook", 10015)
        body = call.json or {}
        problem = message_problems(body)
        if problem is not None:
            return problem
        flags = int(body.get("flags") or 0) & EPHEMERAL
        if it.awaiting_followup and it.original is not None:
            # The first follow-up after a defer fills the "thinking" message; that message
            # is ephemeral or not as the defer said, whatever this body's flags say.
            flags, message_id = it.original["flags"] & EPHEMERAL, int(it.original["id"])
            message = self._interaction_message(it, body, flags=flags, message_id=message_id)
            it.original, it.awaiting_followup = message, False
        else:
            message = self._interaction_message(it, body, flags=flags)
        self.followups.append({**body, "token": token})
        if call.query.get("wait", "").lower() not in ("1", "true"):
            return web.Response(status=204)
        return reply(message)

    # --- application commands ----------------------------------------------------------
    async def _put_commands(
        self, call: RestCall, app_id: str, guild_id: str | None = None
    ) -> web.Response:
        scope = None if guild_id is None else int(guild_id)
        if int(app_id) != self.application_id or scope not in (None, self.guild_id):
            return error(403, "Missing Access", 50001)
        commands = call.json if isinstance(call.json, list) else []
        problems = _command_problems(commands)
        if problems:
            return form_error(problems)
        # Overwriting keeps the ids of commands that stay, as Discord does.
        before = {(c["name"], c["type"]): c["id"] for c in self._commands.get(scope, [])}
        defaults = {
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "dm_permission": True,
            "nsfw": False,
            "contexts": None,
            "integration_types": [0],
            "name_localizations": None,
            "description_localizations": None,
        }
        echoed = []
        for command in commands:
            kind = command.get("type", 1)
            out = {
                **defaults,
                **command,
                "id": before.get((command["name"], kind)) or str(dp.snowflake()),
                "application_id": str(self.application_id),
                "version": str(dp.snowflake()),
                "type": kind,
            }
            if scope is not None:
                out["guild_id"] = str(scope)
            echoed.append(out)
        self._commands[scope] = echoed
        self.command_syncs.append((scope, commands))
        return reply(echoed)
