"""The "Save as answer" form: a modal a lead edits, and reading back what they submitted.

The modal carries, in `private_metadata`, the ticket and the conversation it was opened
from, so the submission can name them again: Slack hands the metadata back unchanged.
Both inputs are plain text (never mrkdwn), so nothing in them is escaped; they are
only bounded to what a `plain_text_input` holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from adapters.base import AnswerDraft
from adapters.slack.render import clip, clip_plain
from bot.events import Place, TicketAction
from bot.flow.copy import ACTION_LABELS

__all__ = [
    "ANSWER",
    "CALLBACK_ID",
    "QUESTION",
    "FilledForm",
    "answer_form",
    "filled",
    "form_errors",
    "read_form",
]

CALLBACK_ID = "save_answer"
QUESTION, ANSWER = "question", "answer"  # the input blocks' ids
INPUT = "text"  # the action id of the input inside each block
INPUT_LIMIT = 3000  # a plain_text_input's most
TITLE_LIMIT = 24  # a modal's title, submit and close labels
LABELS = {QUESTION: "Question", ANSWER: "Answer"}
EMPTY = {
    QUESTION: "Write the question people ask.",
    ANSWER: "Write the answer to save.",
}


def _input(block_id: str, value: str) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=LABELS[block_id],
        element=PlainTextInputElement(
            action_id=INPUT,
            multiline=True,
            max_length=INPUT_LIMIT,
            initial_value=clip_plain(value, INPUT_LIMIT) or None,
        ),
    )


def answer_form(draft: AnswerDraft, place: Place) -> View:
    """The modal a lead edits a drafted Q&A in, prefilled with the draft."""
    metadata = {
        "ticket_id": draft.ticket_id,
        "channel_id": place.channel_id,
        "thread_id": place.thread_id,
    }
    note = f"From ticket #{draft.ticket_id}. Edit it as people should read it; Save adds it."
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title=clip_plain(ACTION_LABELS[TicketAction.SAVE_ANSWER], TITLE_LIMIT),
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps(metadata),
        blocks=[
            ContextBlock(elements=[MarkdownTextObject(text=clip(note, 300), verbatim=True)]),
            _input(QUESTION, draft.question),
            _input(ANSWER, draft.answer),
        ],
    )


def filled(view: dict[str, Any]) -> dict[str, str]:
    """What the lead typed in each input, stripped; "" for an input empty or missing."""
    values = (view.get("state") or {}).get("values") or {}
    found: dict[str, str] = {}
    for block_id in (QUESTION, ANSWER):
        block = values.get(block_id) if isinstance(values, dict) else None
        field = block.get(INPUT) if isinstance(block, dict) else None
        value = field.get("value") if isinstance(field, dict) else None
        found[block_id] = value.strip() if isinstance(value, str) else ""
    return found


def form_errors(view: Any) -> dict[str, str]:
    """Slack's `response_action: errors`: a message under each input left empty."""
    if not isinstance(view, dict):
        return {}
    return {block_id: EMPTY[block_id] for block_id, value in filled(view).items() if not value}


@dataclass(frozen=True)
class FilledForm:
    """A submitted form, read back: the ticket, where it was opened, the edited Q&A."""

    submission: str
    """`<view id>:<view hash>`: the same for a redelivery of one submission."""
    ticket_id: int
    channel_id: str
    thread_id: str | None
    question: str
    answer: str


def _metadata(view: dict[str, Any]) -> tuple[int, str, str | None] | None:
    try:
        meta = json.loads(view["private_metadata"])
        ticket_id, channel, thread = meta["ticket_id"], meta["channel_id"], meta.get("thread_id")
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        return None
    if not (isinstance(channel, str) and channel) or not isinstance(thread, str | None):
        return None
    return ticket_id, channel, thread


def read_form(view: Any) -> FilledForm | None:
    """A submitted "Save as answer" view, or None: another form, an input left empty,
    metadata or ids that are not the ones `answer_form` wrote."""
    if not isinstance(view, dict) or view.get("callback_id") != CALLBACK_ID:
        return None
    meta, values = _metadata(view), filled(view)
    view_id, view_hash = view.get("id"), view.get("hash")
    if meta is None or not all(values.values()):
        return None
    if not (isinstance(view_id, str) and view_id and isinstance(view_hash, str)):
        return None
    return FilledForm(
        submission=f"{view_id}:{view_hash}",
        ticket_id=meta[0],
        channel_id=meta[1],
        thread_id=meta[2],
        question=values[QUESTION],
        answer=values[ANSWER],
    )
