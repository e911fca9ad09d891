"""Socket Mode: bolt's handler, after the same shape checks an HTTP request passes.

Over HTTP a malformed body gets a 400; over Socket Mode there is no status to send,
and bolt's 500 would leave the envelope unacknowledged, so Slack would deliver it
again and again. A malformed envelope is acknowledged and skipped instead.
"""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from adapters.slack.http import shape_problem

__all__ = ["CheckedSocketModeHandler"]

log = logging.getLogger(__name__)


class CheckedSocketModeHandler(AsyncSocketModeHandler):
    """Skips (and acknowledges) envelopes whose payload is not a Slack payload."""

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        """Hand a well-shaped envelope to bolt; acknowledge and drop anything else."""
        payload = req.payload
        problem = shape_problem(payload) if isinstance(payload, dict) else "not an object"
        if problem is not None:
            log.debug("slack.socket.skipped reason=%s", problem)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        await super().handle(client, req)
