"""Resolved tickets teach the knowledge base: a draft Q&A when a lead resolves a
ticket, the draft a "Save as answer" form opens with, and the approved answer stored
as a document of kind `ticket`.

The draft is written when the ticket is resolved (a model call, off the platform's
clock) so the form can open within the 3 seconds Slack and Discord allow; with no
model, it is made from the thread on the spot. Both texts pass the redactor again
when saved: no personal data of the requester goes into the knowledge base.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from bot.desk.base import DeskBase
from bot.events import Actor, AnswerApproved, Place, TicketStatus
from bot.flow import copy
from bot.knowledge.base import KnowledgeBase
from bot.pipeline.ports import AnswerDraft
from bot.store.audit import audit, who
from bot.store.kb_tables import KbDraft
from bot.store.models import Ticket
from bot.tickets.queries import ThreadLine, call_context, facts_of, get_ticket, same_workspace
from bot.tickets.queries import thread_lines as read_thread

__all__ = ["MAX_ANSWER_CHARS", "SavedAnswers", "offline_draft", "parse_draft"]

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
MAX_ANSWER_CHARS = 4000
_SAVABLE = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})


def parse_draft(content: str) -> tuple[str, str] | None:
    """(question, answer) from the drafting model's JSON reply; None if unusable."""
    start, end = content.find("{"), content.rfind("}")
    try:
        data = json.loads(content[start : end + 1], strict=False)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    question, answer = data.get("question"), data.get("answer")
    if not isinstance(question, str) or not isinstance(answer, str):
        return None
    if not question.strip() or not answer.strip():
        return None
    return question.strip()[:MAX_QUESTION_CHARS], answer.strip()[:MAX_ANSWER_CHARS]


def offline_draft(lines: list[ThreadLine], summary: str | None) -> tuple[str, str]:
    """A draft with no model: the triage summary (or first question) and the team's
    last reply in the thread."""
    asked = next((line.text for line in lines if line.author == "user"), "")
    question = summary or asked
    answers = [line.text for line in lines if line.author == "agent"]
    if not answers:
        answers = [line.text for line in lines if line.author == "bot"]
    return question[:MAX_QUESTION_CHARS], (answers[-1] if answers else "")[:MAX_ANSWER_CHARS]


class SavedAnswers(DeskBase):
    """Drafts, forms and approvals of answers saved from resolved tickets."""

    def __init__(
        self,
        *,
        knowledge: KnowledgeBase,
        redact: Callable[[str], str],
        **parts: object,
    ) -> None:
        super().__init__(**parts)  # type: ignore[arg-type]
        self._knowledge = knowledge
        self._redact = redact

    async def write_draft(self, ticket_id: int) -> None:
        """Draft the Q&A of a just-resolved ticket (kept until saved or replaced)."""
        async with self._sessions() as session:
            ticket = await session.get_one(Ticket, ticket_id)
            lines = await read_thread(session, ticket, ticket.requester_id)
        context = call_context(ticket, "answer_draft")
        reply = await self._writer.draft(facts_of(ticket), lines, context=context)
        parsed = parse_draft(reply.text) if reply is not None else None
        question, answer = parsed or offline_draft(lines, ticket.summary)
        async with self._sessions.begin() as session:
            draft = await session.get(KbDraft, ticket_id) or KbDraft(ticket_id=ticket_id)
            draft.question, draft.answer = self._redact(question), self._redact(answer)
            draft.model = reply.model if parsed and reply else None
            draft.created_at = self._clock()
            session.add(draft)

    async def draft_for(self, actor: Actor, place: Place, ticket_id: int) -> AnswerDraft | None:
        """The draft a lead's form opens with; None for anyone who may not save it."""
        if not self.is_lead(actor):
            return None
        async with self._sessions() as session:
            ticket = await get_ticket(session, ticket_id)
            if ticket is None or not same_workspace(ticket, place):
                return None
            if ticket.status not in _SAVABLE:
                return None
            draft = await session.get(KbDraft, ticket_id)
            if draft is not None:
                return AnswerDraft(ticket_id, draft.question, draft.answer)
            lines = await read_thread(session, ticket, ticket.requester_id)
        question, answer = offline_draft(lines, ticket.summary)
        return AnswerDraft(ticket_id, self._redact(question), self._redact(answer))

    async def approved(self, event: AnswerApproved) -> list[str]:
        """Store a lead's approved Q&A in the knowledge base; refuse anyone else."""
        target = f"ticket:{event.ticket_id}"
        if not self.is_lead(event.actor):
            return [
                await self._refuse(
                    event, copy.LEADS_ONLY_BUTTONS, action="kb.refused", target=target
                )
            ]
        async with self._sessions() as session:
            ticket = await get_ticket(session, event.ticket_id)
        if ticket is None or not same_workspace(ticket, event.place):
            text = copy.no_such_ticket(event.ticket_id)
            return [await self._refuse(event, text, action="kb.refused", target=target)]
        if ticket.status not in _SAVABLE:
            return [await self._say(event, copy.SAVE_ANSWER_NOT_RESOLVED)]
        question, answer = event.question.strip(), event.answer.strip()
        if (
            not question
            or not answer
            or len(question) > MAX_ANSWER_CHARS
            or len(answer) > MAX_ANSWER_CHARS
        ):
            return [await self._say(event, copy.SAVE_ANSWER_INVALID)]
        location = await self._knowledge.save_answer(
            ticket_id=ticket.id,
            workspace_id=ticket.workspace_id,
            requester_id=ticket.requester_id,
            question=self._redact(question),
            answer=self._redact(answer),
        )
        async with self._sessions.begin() as session:
            draft = await session.get(KbDraft, ticket.id)
            if draft is not None:
                await session.delete(draft)
            audit(
                session,
                actor=who(event.actor),
                action="kb.answer_saved",
                target=target,
                at=self._clock(),
                document=location,
            )
        log.info("kb.answer_saved ticket=%s", ticket.id)
        return [await self._say(event, copy.answer_saved(ticket.id, self._redact(question)[:80]))]
