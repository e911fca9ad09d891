""" "Save as answer" on Slack: the card's button opens a form, submitting it saves.

The button is not an event for the inbox: its `trigger_id` opens a modal for only 3
seconds, so the listener acknowledges, asks the core for the draft (`Drafts`, which
never calls a model) and opens the form at once. Who may save is the core's decision:
no draft means no. The submission is the event (`AnswerApproved`), committed to the
inbox before Slack is told the form may close.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import Drafts, Intake, Outlet
from adapters.slack.forms import CALLBACK_ID, answer_form, form_errors
from adapters.slack.identity import SlackIds
from adapters.slack.to_event import (
    SAVE_ANSWER_ACTION,
    SaveAnswerClick,
    from_view_submission,
    save_answer_click,
)
from bot.events import Ephemeral
from bot.flow import copy

__all__ = ["NOT_AVAILABLE", "NOT_OPENED", "REFUSED", "AnswerSaving"]

log = logging.getLogger(__name__)

REFUSED = copy.SAVE_ANSWER_REFUSED
NOT_AVAILABLE = copy.SAVE_ANSWER_UNAVAILABLE
NOT_OPENED = copy.SAVE_ANSWER_FORM_EXPIRED


class AnswerSaving:
    """The listeners of the "Save as answer" button and of the form it opens."""

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        outlet: Outlet,
        intake: Intake,
        ids: SlackIds,
        drafts: Drafts | None,
    ) -> None:
        self._client = client
        self._outlet = outlet
        self._intake = intake
        self._ids = ids
        self._drafts = drafts

    def register(self, app: AsyncApp) -> None:
        """Listen for the button and the form (before the other `ticket:` buttons)."""
        app.action(SAVE_ANSWER_ACTION)(self.on_click)
        app.view(CALLBACK_ID)(self.on_submit)

    async def on_click(self, body: dict[str, Any], ack: AsyncAck) -> None:
        """Open the form prefilled with the draft, or say privately why not."""
        await ack()
        await self._ids.refresh_lead_group(self._client)
        click = save_answer_click(body, self._ids)
        if click is None:
            return
        if self._drafts is None:
            await self._tell(click, NOT_AVAILABLE)
            return
        draft = await self._drafts.draft_for(click.actor, click.place, click.ticket_id)
        if draft is None:
            await self._tell(click, REFUSED)
            return
        try:
            await self._client.views_open(
                trigger_id=click.trigger_id, view=answer_form(draft, click.place)
            )
        except SlackApiError as exc:  # most often expired_trigger_id: the 3 s were gone
            log.warning("slack.save_answer.form_failed error=%s", exc.response.get("error"))
            await self._tell(click, NOT_OPENED)

    async def on_submit(self, body: dict[str, Any], ack: AsyncAck) -> None:
        """Hand the edited Q&A to the core, then let the form close (or show what is
        missing under each empty input, keeping the form open)."""
        errors = form_errors(body.get("view"))
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await self._ids.refresh_lead_group(self._client)
        event = from_view_submission(body, self._ids)
        if event is not None:
            await self._intake.submit(event)
        else:
            log.info("slack.save_answer.unreadable")
        await ack()

    async def _tell(self, click: SaveAnswerClick, text: str) -> None:
        await self._outlet.deliver(
            Ephemeral(
                actor=click.actor, place=click.place, text=text, reply_handle=click.reply_handle
            )
        )
