"""The "Save as answer" form: a Discord modal prefilled with the draft a lead edits.

A press on the card's button is answered with the form itself (a modal must be an
interaction's first answer, within its 3 seconds; `Drafts` is fast enough to ask
first). The form is sent with discord.py's `Modal` but not kept: its submit is a new
interaction, read from its payload alone (`to_event.from_modal_submit`), so a form
opened before a restart still saves, as the cards' buttons still work.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import discord

from adapters.base import Intake
from adapters.discord.text import clip
from adapters.discord.to_event import ANSWER_FIELD, QUESTION_FIELD, form_id, from_modal_submit
from bot.events import Actor, Place, TicketAction
from bot.flow import copy
from bot.flow.copy import ACTION_LABELS
from bot.pipeline.ports import AnswerDraft, Drafts

__all__ = ["SaveAnswerForms", "save_answer_modal"]

log = logging.getLogger(__name__)

QUESTION_LIMIT, ANSWER_LIMIT = 1000, 4000  # Discord: a text input holds at most 4000
TITLE_LIMIT = 45  # a modal's title

LEADS_ONLY = copy.SAVE_ANSWER_REFUSED
NOT_AVAILABLE = copy.SAVE_ANSWER_UNAVAILABLE
DRAFT_FAILED = copy.SAVE_ANSWER_DRAFT_FAILED
FORM_GONE = copy.SAVE_ANSWER_FORM_GONE
SAVING = copy.SAVE_ANSWER_SAVING


def save_answer_modal(draft: AnswerDraft) -> discord.ui.Modal:
    """The form for `draft`: its question and answer in two required paragraph inputs,
    cut (between characters, marked) to what Discord lets them hold."""
    modal = discord.ui.Modal(
        title=ACTION_LABELS[TicketAction.SAVE_ANSWER][:TITLE_LIMIT],
        custom_id=form_id(draft.ticket_id),
    )
    fields = [
        (QUESTION_FIELD, "Question", draft.question, QUESTION_LIMIT),
        (ANSWER_FIELD, "Answer", draft.answer, ANSWER_LIMIT),
    ]
    for custom_id, label, value, limit in fields:
        text_input: discord.ui.TextInput[Any] = discord.ui.TextInput(
            style=discord.TextStyle.paragraph,
            custom_id=custom_id,
            default=clip(value.strip(), limit) or None,
            required=True,
            max_length=limit,
        )
        modal.add_item(discord.ui.Label(text=label, component=text_input))
    # A finished modal is not stored by discord.py: nothing lingers for forms never sent.
    modal.stop()
    return modal


class SaveAnswerForms:
    """Opens the form on a press, and hands its submit to the core as AnswerApproved."""

    def __init__(
        self,
        intake: Intake,
        drafts: Drafts | None,
        on_ack: Callable[[float], None] | None = None,
    ) -> None:
        self._intake = intake
        self._drafts = drafts
        self._on_ack = on_ack

    async def offer(
        self, interaction: discord.Interaction, actor: Actor, place: Place, ticket_id: int
    ) -> None:
        """Open the form on the draft for `ticket_id`, or say privately why not."""
        refusal = NOT_AVAILABLE
        if self._drafts is not None:
            try:
                draft = await self._drafts.draft_for(actor, place, ticket_id)
            except Exception:
                log.exception("discord.form.draft_failed ticket=%s", ticket_id)
                draft, refusal = None, DRAFT_FAILED
            else:
                refusal = LEADS_ONLY
            if draft is not None:
                await interaction.response.send_modal(save_answer_modal(draft))
                return
        await interaction.response.send_message(refusal, ephemeral=True)

    async def take(self, interaction: discord.Interaction) -> None:
        """A submitted form: into the core, then acknowledged; a malformed one is skipped."""
        event = from_modal_submit(interaction)
        if event is None:
            log.debug("discord.form.skipped interaction=%s", interaction.id)
            await interaction.response.send_message(FORM_GONE, ephemeral=True)
            return
        started = time.monotonic()
        await self._intake.submit(event)
        await interaction.response.send_message(SAVING, ephemeral=True)
        if self._on_ack is not None:
            self._on_ack(time.monotonic() - started)
