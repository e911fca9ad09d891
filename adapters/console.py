"""The terminal channel: try the whole support flow with no platform account.

Each line you type is a message to the bot. The first opens a ticket and you stay in
its thread until `/new`. Cards, answers (with the pages they cite), escalations and
command answers print the way Slack and Discord show them; the terminal user is a
support lead. `/save N` is Slack's "Save as answer" form as two prompts.
"""

from __future__ import annotations

import asyncio
import itertools
import shlex
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TextIO

from adapters.base import Drafts, Intake, OutletBase
from bot.events import (
    REQUESTER_ACTIONS,
    ActionInvoked,
    Actor,
    AnswerApproved,
    Buttons,
    CommandInvoked,
    CommandName,
    Ephemeral,
    Event,
    MessagePosted,
    Notify,
    Place,
    Platform,
    PostReply,
    Seen,
    SourceLink,
    TicketAction,
    TicketCard,
    UpdateCard,
)
from bot.flow import copy
from bot.flow.copy import ACTION_LABELS, COMMAND_HELP

__all__ = ["ConsoleChannel", "ConsoleLive", "ConsoleOutlet", "render_card", "render_sources"]

WORKSPACE, CHANNEL = "local", "terminal"
# Typed as `/ask N` and `/save N`: actions whose names are long to type (both work).
SHORT_NAMES = {
    "ask": TicketAction.ASK_REASONER,
    "save": TicketAction.SAVE_ANSWER,
    "person": TicketAction.NEED_PERSON,
    "good": TicketAction.RATE_GOOD,
    "bad": TicketAction.RATE_BAD,
}
SEEN_LINE = "(the bot is writing an answer…)"
REFUSED = copy.SAVE_ANSWER_REFUSED
NOT_AVAILABLE = copy.SAVE_ANSWER_UNAVAILABLE
KEEP = "[Enter keeps it]:"
_ARGS = {TicketAction.RECLASSIFY: "N category[:urgency]"}
HELP = "\n".join(
    [
        "Type a message to open a ticket; later lines go into its thread.",
        "  /new                  start a new ticket with your next message",
        "  " + " ".join(f"/{usage}" for usage, _ in COMMAND_HELP.values()),
        "  "
        + "  ".join(
            f"/{next((k for k, v in SHORT_NAMES.items() if v is a), a)} {_ARGS.get(a, 'N')}"
            for a in TicketAction
            if a is not TicketAction.SAVE_ANSWER and a not in REQUESTER_ACTIONS
        ),
        "  /solved  /person  under an answer: it solved it / I need a person",
        "  /good  /bad       once resolved: rate the help you got",
        "  /save N               edit a resolved ticket's question and answer, then save them",
        "  /quit                 leave (Ctrl-D works too)",
    ]
)


def _action(name: str) -> TicketAction | None:
    if name in SHORT_NAMES:
        return SHORT_NAMES[name]
    return TicketAction(name) if name in set(TicketAction) else None


def _save_target(line: str) -> int | None:
    """The ticket of `/save N` (or `/save-answer N`); None for any other line."""
    words = line.split()
    if len(words) < 2 or not words[0].startswith("/"):
        return None
    if _action(words[0][1:].lower()) is not TicketAction.SAVE_ANSWER:
        return None
    number = words[1].lstrip("#")
    return int(number) if number.isdigit() else None


def render_card(card: TicketCard) -> list[str]:
    """A ticket card as a boxed block of text."""
    head = f"Ticket #{card.ticket_id} · {card.status}"
    lines = [f"{card.urgency or '?'} urgency · {card.category or 'untriaged'}"]
    if card.summary:
        lines.append(card.summary)
    if card.team:
        lines.append(f"team: {card.team}")
    if card.assignee_id:
        lines.append(f"assignee: {card.assignee_id}")
    elif card.suggested_assignee_id:
        lines.append(f"suggested: {card.suggested_assignee_id}")
    if card.actions:
        lines.append(" ".join(f"[{ACTION_LABELS[a]}]" for a in card.actions))
    width = max(len(head), *(len(line) for line in lines)) + 2
    return [
        f"┌─ {head} " + "─" * (width - len(head) - 1),
        *(f"│ {line}" for line in lines),
        "└" + "─" * (width + 2),
    ]


def render_buttons(buttons: Buttons) -> str:
    """The requester's buttons as the commands that press them."""
    names = {action: name for name, action in SHORT_NAMES.items()}
    return "   ".join(f"[{ACTION_LABELS[a]}: /{names.get(a, a.value)}]" for a in buttons.actions)


def render_sources(sources: tuple[SourceLink, ...]) -> list[str]:
    """The pages an answer cites, numbered as its text cites them, with a link if any."""
    return [f"[{s.number}] {s.title} — {s.url or s.location}" for s in sources]


class ConsoleOutlet(OutletBase):
    """Prints replies; message ids are local counters."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._ids = itertools.count(1)
        self._lives: list[ConsoleLive] = []

    def _print(self, lines: list[str], prefix: str = "  ") -> None:
        for line in lines:
            print(f"{prefix}{line}", file=self._out)
        self._out.flush()

    async def live(self, place: Place, requester: Actor, card: TicketCard) -> ConsoleLive:
        """Print the answer as it is written, after a `bot:` prefix."""
        live = ConsoleLive(self._out)
        self._lives.append(live)
        return live

    async def post_reply(self, reply: PostReply) -> str:
        """Print the card boxed, then the text as the bot's lines (unless it was just
        printed as it was written), then its sources."""
        if reply.card is not None:
            self._print(render_card(reply.card))
        if reply.text and not self._printed_live(reply):
            self._print(_bot_lines(reply.text))
        if reply.sources:
            self._print(render_sources(reply.sources), prefix="       ")  # under the text
        if reply.buttons is not None:
            self._print([render_buttons(reply.buttons)], prefix="     ")
        return f"console-out-{next(self._ids)}"

    async def seen(self, reply: Seen) -> None:
        """A status line while the answer is written (nothing to take away after)."""
        if not reply.done:
            self._print([SEEN_LINE])

    def _printed_live(self, reply: PostReply) -> bool:
        """Whether this answer's text was printed whole as it was written (a stream
        that broke off and was completed is printed again, whole)."""
        live = next((x for x in self._lives if x.message_id == reply.live_message_id), None)
        if live is None:
            return False
        self._lives.remove(live)
        return live.text.strip() == (reply.text or "").strip()

    async def notify(self, reply: Notify) -> str:
        """Print a leads-channel notice."""
        ping = "@leads " if reply.ping_leads else ""
        self._print([f"[#{reply.place.channel_id}] {ping}{reply.text}"])
        if reply.card is not None:
            self._print(render_card(reply.card), prefix="  [#leads] ")
        return f"console-out-{next(self._ids)}"

    async def ephemeral(self, reply: Ephemeral) -> None:
        """Print a private answer."""
        self._print(["(only you can see this)", *reply.text.splitlines()])

    async def update_card(self, reply: UpdateCard) -> str:
        """Print that a card changed."""
        card, where = reply.card, reply.ref.place.channel_id
        who = f", assignee {card.assignee_id}" if card.assignee_id else ""
        self._print([f"(card #{card.ticket_id} in #{where} updated: {card.status}{who})"])
        return reply.ref.message_id


class ConsoleLive:
    """An answer printed as the model writes it."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.message_id: str | None = None
        self.text = ""

    async def append(self, text: str) -> None:
        """Print the next piece where the last one ended."""
        self.text += text
        if self.message_id is None:
            self.message_id = f"console-live-{uuid.uuid4().hex[:8]}"
            self._out.write("  bot: ")
        self._out.write(text.replace("\n", "\n       "))
        self._out.flush()

    async def finish(self) -> None:
        """End the line."""
        if self.message_id is not None:
            self._out.write("\n")
            self._out.flush()

    async def abandon(self, note: str) -> None:
        """End what was printed with `note`."""
        if self.message_id is not None:
            self._out.write(f"\n       {note}\n")
            self._out.flush()


def _bot_lines(text: str) -> list[str]:
    lines = text.splitlines() or [""]
    return [f"bot: {lines[0]}", *(f"     {line}" for line in lines[1:])]


class ConsoleChannel:
    """Reads lines, turns them into events, and waits for each to be handled."""

    def __init__(
        self,
        intake: Intake,
        wait: Callable[[str], Awaitable[object]],
        *,
        read_line: Callable[[], str] | None = None,
        out: TextIO = sys.stdout,
        user: str = "you",
        drafts: Drafts | None = None,
        ticket_of: Callable[[Place], Awaitable[int | None]] | None = None,
    ) -> None:
        self._intake = intake
        self._ticket_of = ticket_of
        self._wait = wait
        self._drafts = drafts
        self._read_line = read_line or sys.stdin.readline
        self._out = out
        self._actor = Actor(platform=Platform.CONSOLE, user_id=user, display_name=user)
        self._thread: str | None = None

    def _place(self) -> Place:
        return Place(
            platform=Platform.CONSOLE,
            workspace_id=WORKSPACE,
            channel_id=CHANNEL,
            thread_id=self._thread,
        )

    async def _next_line(self) -> str:
        """The next line typed; "" at EOF (an empty line is "\\n")."""
        return await asyncio.get_running_loop().run_in_executor(None, self._read_line)

    async def run(self) -> None:
        """Read until EOF or /quit."""
        while True:
            line = await self._next_line()
            if not line or line.strip() in ("/quit", "/exit"):
                return
            line = line.rstrip("\n")
            saving = _save_target(line)  # the lead edits the draft before it is submitted
            event = await self._approved(saving) if saving is not None else await self._event(line)
            if event is not None:
                await self._intake.submit(event)
                await self._wait(event.event_id)

    async def _event(self, line: str) -> Event | None:
        if not line.startswith("/"):
            return self._message(line)
        try:
            words = shlex.split(line[1:])
        except ValueError:
            words = line[1:].split()
        name, args = (words[0].lower(), words[1:]) if words else ("help", [])
        if name == "new":
            self._thread = None
            self._say("Your next message opens a new ticket.")
            return None
        if name in set(CommandName):
            return CommandInvoked(
                event_id=_id(),
                place=self._place(),
                actor=self._actor,
                name=CommandName(name),
                args=tuple(args),
            )
        action = _action(name)
        if action in REQUESTER_ACTIONS and not args:  # typed bare: the ticket you are in
            args = await self._this_ticket()
        if action is not None and args and args[0].lstrip("#").isdigit():
            return ActionInvoked(
                event_id=_id(),
                place=self._place(),
                actor=self._actor,
                action=action,
                ticket_id=int(args[0].lstrip("#")),
                value=" ".join(args[1:]) or None,
            )
        self._say(HELP)
        return None

    async def _this_ticket(self) -> list[str]:
        """The number of the ticket whose thread you are in, as typed arguments."""
        if self._ticket_of is None or self._thread is None:
            return []
        ticket_id = await self._ticket_of(self._place())
        return [] if ticket_id is None else [str(ticket_id)]

    async def _approved(self, ticket_id: int) -> AnswerApproved | None:
        """Show the draft of `ticket_id`, let the lead edit each part, and approve it."""
        if self._drafts is None:
            self._say(NOT_AVAILABLE)
            return None
        draft = await self._drafts.draft_for(self._actor, self._place(), ticket_id)
        if draft is None:
            self._say(REFUSED)
            return None
        self._say(f"Draft from ticket #{ticket_id}:\nQuestion: {draft.question}")
        self._say(f"Answer: {draft.answer}")
        question = await self._edited("Question", draft.question)
        answer = await self._edited("Answer", draft.answer) if question else None
        if not (question and answer):
            self._say("Not saved: it needs a question and an answer.")
            return None
        return AnswerApproved(
            event_id=_id(),
            place=self._place(),
            actor=self._actor,
            ticket_id=ticket_id,
            question=question,
            answer=answer,
        )

    async def _edited(self, label: str, kept: str) -> str | None:
        """A new text for one part, or `kept` on Enter; None at EOF."""
        print(f"{label} {KEEP} ", end="", file=self._out)
        self._out.flush()
        line = await self._next_line()
        if not line:
            return None
        return line.strip() or kept.strip()

    def _message(self, text: str) -> MessagePosted:
        message_id = f"{time.time():.6f}"
        event = MessagePosted(
            event_id=_id(),
            place=self._place(),
            message_id=message_id,
            author=self._actor,
            text=text,
            mentions_bot=True,
            posted_at=datetime.now(UTC),
        )
        if self._thread is None:
            self._thread = message_id  # the ticket's thread hangs off this message
        return event

    def _say(self, text: str) -> None:
        print(text, file=self._out)
        self._out.flush()


def _id() -> str:
    return f"console-{uuid.uuid4().hex}"
