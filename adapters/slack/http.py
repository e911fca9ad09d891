"""The checks an HTTP request passes before bolt sees it: signed, parseable, well shaped.

Bolt parses bodies eagerly and assumes Slack's shapes (a JSON object, `event` an
object, `actions` a list of objects...); anything else made it raise, and that was a
500, which Slack retries. Here such a request is refused with a 4xx instead: 401 when
the signature does not hold (checked first, so strangers learn nothing), 400 when a
signed body is not a Slack payload. Nothing refused here reaches a listener.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

__all__ = [
    "bolt_request_of",
    "check_request",
    "healthz",
    "malformed",
    "needs_identity",
    "not_ready",
    "parse",
    "shape_problem",
]

# Requests bolt answers without authorizing (so without the bot's identity).
NO_IDENTITY_TYPES = ("url_verification", "ssl_check")

# Keys bolt reads as an id (a string) or an object with an `id` (or null).
_OBJECT_OR_ID = ("team", "user", "enterprise", "channel", "view", "container", "message")


def parse(raw: str, content_type: str | None) -> Any:
    """The body as bolt would parse it; `ValueError` when it cannot be."""
    return parse_body(raw, content_type)


def _content_type(headers: Mapping[str, str]) -> str | None:
    value = headers.get("Content-Type")
    return value.split(";")[0].strip() if value else None


def _signed(verifier: SignatureVerifier, raw: str, headers: Mapping[str, str]) -> bool:
    try:
        return verifier.is_valid(
            raw,
            headers.get("X-Slack-Request-Timestamp"),
            headers.get("X-Slack-Signature"),
        )
    except (ValueError, TypeError, OverflowError):  # a timestamp that is not a number
        return False


def shape_problem(body: dict[str, Any]) -> str | None:
    """Why a parsed body is not a payload bolt can route safely; None when it is."""
    if body.get("type") is not None and not isinstance(body["type"], str):
        return "type is not a string"
    if "command" in body and not isinstance(body["command"], str):
        return "command is not a string"
    for key in _OBJECT_OR_ID:
        if body.get(key) is not None and not isinstance(body[key], str | dict):
            return f"{key} is neither an id nor an object"
    auths = body.get("authorizations")
    if auths is not None and not (
        isinstance(auths, list) and all(isinstance(a, dict) for a in auths)
    ):
        return "authorizations is not a list of objects"
    if "event" in body:
        event = body["event"]
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "event is not an object with a type"
    if "actions" in body:
        actions = body["actions"]
        if not (
            isinstance(actions, list)
            and actions
            and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
        ):
            return "actions is not a list of actions"
    return None


def check_request(
    raw: str, headers: Mapping[str, str], verifier: SignatureVerifier | None
) -> tuple[dict[str, Any] | None, web.Response | None]:
    """The parsed body, or the 4xx to answer instead."""
    try:
        body = parse(raw, _content_type(headers))
    except ValueError:  # JSON that is not JSON
        body = None
    ssl_check = isinstance(body, dict) and body.get("ssl_check") == "1"  # unsigned, by design
    if verifier is not None and not ssl_check and not _signed(verifier, raw, headers):
        return None, web.json_response({"error": "invalid request"}, status=401)
    if not isinstance(body, dict):
        return None, malformed()
    problem = shape_problem(body)
    if problem is not None:
        return None, malformed(problem)
    return body, None


def needs_identity(body: dict[str, Any]) -> bool:
    """Whether bolt must authorize this request (all but URL verification and SSL checks)."""
    return body.get("type") not in NO_IDENTITY_TYPES and body.get("ssl_check") != "1"


def bolt_request_of(raw: str, request: web.Request) -> AsyncBoltRequest | None:
    """The bolt request for a checked body; None if bolt still cannot read it."""
    try:
        return AsyncBoltRequest(
            body=raw,
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]
        )
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        return None


def malformed(problem: str = "") -> web.Response:
    """400: signed, but not a payload Slack sends."""
    detail = f"malformed body: {problem}" if problem else "malformed body"
    return web.json_response({"error": detail}, status=400)


def not_ready() -> web.Response:
    """503 with Retry-After: the bot's identity is unknown, so the event is not taken yet."""
    return web.json_response({"error": "not ready"}, status=503, headers={"Retry-After": "5"})


async def healthz(_request: web.Request) -> web.Response:
    """`GET /healthz`: the process is up."""
    return web.json_response({"status": "ok"})
