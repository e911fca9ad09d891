"""The contract: the vocabulary, what adapters hand the core, and what it hands back.

Incoming events and outgoing replies (neutral instructions each adapter renders in
its platform's own form) are frozen, keyword-only pydantic models. Raw platform
payloads never cross this line.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

__all__ = [
    "REQUESTER_ACTIONS",
    "ActionInvoked",
    "Actor",
    "AnswerApproved",
    "Buttons",
    "CardRef",
    "Category",
    "CommandInvoked",
    "CommandName",
    "Ephemeral",
    "Event",
    "HomeOpened",
    "HomeSection",
    "MessageDeleted",
    "MessageEdited",
    "MessagePosted",
    "Notify",
    "Place",
    "Platform",
    "PostReply",
    "PublishHome",
    "Reply",
    "Seen",
    "SourceLink",
    "TeamPing",
    "TicketAction",
    "TicketCard",
    "TicketStatus",
    "UpdateCard",
    "Urgency",
    "dump",
    "load_reply",
]


# --- The vocabulary: one StrEnum per word family, iterated by the adapters ----------


class Platform(StrEnum):
    """Where an event came from."""

    SLACK = "slack"
    DISCORD = "discord"
    CONSOLE = "console"


class TicketStatus(StrEnum):
    """The life of a ticket: open -> escalated/claimed -> resolved -> closed."""

    OPEN = "open"
    ESCALATED = "escalated"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    CLOSED = "closed"


class TicketAction(StrEnum):
    """What a button does to a ticket: a lead's on its card, the requester's under an
    answer (Solved, I need a person) or under the rating question."""

    CLAIM = "claim"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    RECLASSIFY = "reclassify"
    ASK_REASONER = "ask-reasoner"
    SAVE_ANSWER = "save-answer"
    """Offered once a ticket is resolved: turn its thread into a knowledge-base Q&A."""
    SOLVED = "solved"
    """The requester (or a lead): the answer solved it; the ticket is resolved."""
    NEED_PERSON = "need-person"
    """The requester (or a lead): hand this ticket to a person."""
    RATE_GOOD = "rate-good"
    """The requester's 👍 once the ticket is resolved."""
    RATE_BAD = "rate-bad"
    """The requester's 👎 once the ticket is resolved."""


REQUESTER_ACTIONS = frozenset(
    {TicketAction.SOLVED, TicketAction.NEED_PERSON, TicketAction.RATE_GOOD, TicketAction.RATE_BAD}
)
"""The buttons the person who asked may press (leads may press Solved and I need a
person too); every other action is a lead's."""


class CommandName(StrEnum):
    """The `/support ...` commands."""

    SUMMARY = "summary"
    ESCALATIONS = "escalations"
    COSTS = "costs"
    CSAT = "csat"
    TICKET = "ticket"
    FORGET_ME = "forget-me"
    DASHBOARD = "dashboard"
    HELP = "help"


class Category(StrEnum):
    """What a ticket is about."""

    BILLING = "billing"
    BUG = "bug"
    FEATURE_REQUEST = "feature_request"
    ACCOUNT = "account"
    OTHER = "other"


class Urgency(StrEnum):
    """How soon someone should act."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class _Frozen(BaseModel):
    """Base of every event and reply: immutable, keyword-only (as every pydantic model is)
    and strict about unknown fields, so a typo in an adapter fails loudly."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(_Frozen):
    """A person (or bot) on a platform."""

    platform: Platform
    user_id: str
    display_name: str = ""
    is_bot: bool = False
    roles: tuple[str, ...] = ()
    """Platform roles or groups the adapter knows of (Discord role ids, Slack user
    group ids); the core checks them against the configured lead roles."""


class Place(_Frozen):
    """A conversation: workspace (Slack team / Discord guild), channel and thread."""

    platform: Platform
    workspace_id: str
    channel_id: str
    thread_id: str | None = None
    """Slack `thread_ts` or Discord thread id; None at the top level of a channel."""


class _Incoming(_Frozen):
    """What every incoming event carries."""

    event_id: str
    """Unique per platform: a second delivery of the same id is dropped by the inbox."""
    place: Place


class MessagePosted(_Incoming):
    """A message someone posted, with the bot's mention already removed from `text`."""

    kind: Literal["message_posted"] = "message_posted"
    message_id: str
    author: Actor
    text: str
    mentions_bot: bool = False
    opens_without_mention: bool = False
    """A new question where the workspace takes one without a mention: a top-level
    message in a help channel, or a new forum post. Set by the intake from the
    workspace's listening (`bot.pipeline.intake`); adapters leave it False."""
    posted_at: datetime
    attachments: tuple[str, ...] = ()
    """File names or URLs only; never the file content."""


class MessageEdited(_Incoming):
    """A stored message's text changed."""

    kind: Literal["message_edited"] = "message_edited"
    message_id: str
    new_text: str


class MessageDeleted(_Incoming):
    """A message was deleted; its stored text must be erased."""

    kind: Literal["message_deleted"] = "message_deleted"
    message_id: str


class CommandInvoked(_Incoming):
    """A slash command: `/support summary`, `/support costs 7d`..."""

    kind: Literal["command_invoked"] = "command_invoked"
    actor: Actor
    name: CommandName
    args: tuple[str, ...] = ()
    reply_handle: str | None = None
    """Opaque to the core: a Slack response_url, a Discord interaction token..."""


class ActionInvoked(_Incoming):
    """Someone pressed a button (or picked from a select): a lead on a ticket card, or
    the requester under an answer or the rating question."""

    kind: Literal["action_invoked"] = "action_invoked"
    actor: Actor
    action: TicketAction
    ticket_id: int
    value: str | None = None
    reply_handle: str | None = None


class AnswerApproved(_Incoming):
    """A lead approved (and perhaps edited) the Q&A drafted from a resolved ticket."""

    kind: Literal["answer_approved"] = "answer_approved"
    actor: Actor
    ticket_id: int
    question: str
    answer: str
    reply_handle: str | None = None


class HomeOpened(_Incoming):
    """Someone opened the bot's home (Slack App Home); leads see their queue there."""

    kind: Literal["home_opened"] = "home_opened"
    actor: Actor


Event = Annotated[
    MessagePosted
    | MessageEdited
    | MessageDeleted
    | CommandInvoked
    | ActionInvoked
    | AnswerApproved
    | HomeOpened,
    Field(discriminator="kind"),
]
"""Any incoming event; `kind` tells them apart when stored in the inbox."""


# --- Outgoing -----------------------------------------------------------------


class TicketCard(_Frozen):
    """What a ticket looks like on a card: Block Kit on Slack, an embed on Discord."""

    ticket_id: int
    status: TicketStatus
    category: str | None = None
    """As people read it: a renamed category by today's name, a removed one as stored."""
    urgency: str | None = None
    """The urgency's label in the workspace's taxonomy ("P1 - critical"), or its name."""
    summary: str = ""
    assignee_id: str | None = None
    actions: tuple[TicketAction, ...] = ()
    """Buttons to offer, in order, e.g. (CLAIM, RESOLVE, RECLASSIFY, ASK_REASONER)."""
    team: str | None = None
    """The team whose leads have the ticket; None: the workspace's leads."""
    suggested_assignee_id: str | None = None
    """The team lead the card suggests (round robin or least loaded), until one claims it."""
    category_choices: tuple[tuple[str, str], ...] = ()
    """What the reclassify select offers, (value, label): the workspace's categories."""
    urgency_choices: tuple[tuple[str, str], ...] = ()
    """What the urgency select offers, (value, label): the three levels, as labelled."""


class CardRef(_Frozen):
    """Where an already-posted card lives, so it can be updated in place."""

    place: Place
    message_id: str
    text: str | None = None
    """The answer posted in the same message as the card: an update keeps it."""
    sources: tuple[SourceLink, ...] = ()
    buttons: Buttons | None = None
    """The requester's buttons posted with that answer: an update keeps them too."""


class _Outgoing(_Frozen):
    """What every reply carries."""

    key: str = ""
    """The outbox key, set when the reply is written: an outlet may pass it to a
    platform that de-duplicates sends."""


class SourceLink(_Frozen):
    """A knowledge-base page an answer cites (or suggests), shown under the text."""

    number: int
    """The `[n]` the answer's text uses for it."""
    title: str
    location: str
    """Where it came from: a path relative to its folder (`guides/setup.md`) or a URL."""
    url: str | None = None
    """A link a person can open, when there is one."""


class Buttons(_Frozen):
    """Buttons for the requester under a reply's text: Solved / I need a person under
    an answer, 👍 / 👎 under the rating question."""

    ticket_id: int
    actions: tuple[TicketAction, ...]


class PostReply(_Outgoing):
    """Post text and/or a card in a place (usually a ticket's thread)."""

    kind: Literal["post_reply"] = "post_reply"
    place: Place
    text: str | None = None
    card: TicketCard | None = None
    sources: tuple[SourceLink, ...] = ()
    """Pages cited by (or suggested in) `text`, listed under it."""
    buttons: Buttons | None = None
    """The requester's buttons, under the text (and its sources)."""
    live_message_id: str | None = None
    """The message this answer was streamed into while it was written: the outlet
    puts the finished reply there (in place) instead of posting a new one."""
    reply_handle: str | None = None
    """Set when this answers a command: the adapter replies through it, for all to see."""


class UpdateCard(_Outgoing):
    """Re-render a card that was posted earlier."""

    kind: Literal["update_card"] = "update_card"
    ref: CardRef
    card: TicketCard


class TeamPing(_Frozen):
    """Who a team's notice pings instead of the desk's leads: its user group (Slack) or
    roles (Discord), else its leads one by one."""

    user_ids: tuple[str, ...] = ()
    role_ids: tuple[str, ...] = ()
    usergroup_id: str | None = None


class Notify(_Outgoing):
    """A notice for the leads (escalations, SLA reminders, budget alerts)."""

    kind: Literal["notify"] = "notify"
    place: Place
    text: str
    ping_leads: bool = False
    team_ping: TeamPing | None = None
    """With `ping_leads`: the ticket's team is pinged, not the desk's leads."""
    card: TicketCard | None = None


class Ephemeral(_Outgoing):
    """A message only `actor` sees (refusals, command answers)."""

    kind: Literal["ephemeral"] = "ephemeral"
    actor: Actor
    place: Place
    text: str
    reply_handle: str | None = None


class Seen(_Outgoing):
    """Show the asker their message was seen while the answer is being written (a 👀
    reaction, a typing indicator, a status line), or take that sign away (`done`)."""

    kind: Literal["seen"] = "seen"
    place: Place
    """The ticket's thread: it orders this with the thread's other replies."""
    message_id: str
    """The message that was seen (the mention)."""
    done: bool = False


class HomeSection(_Frozen):
    """A titled block of lines on a home view."""

    title: str
    lines: tuple[str, ...] = ()


class PublishHome(_Outgoing):
    """Show `actor` their home view (the leads' queue, or a short how-to)."""

    kind: Literal["publish_home"] = "publish_home"
    actor: Actor
    place: Place
    sections: tuple[HomeSection, ...]


Reply = Annotated[
    PostReply | UpdateCard | Notify | Ephemeral | PublishHome | Seen, Field(discriminator="kind")
]
"""Any outgoing instruction."""


def dump(model: BaseModel) -> dict[str, Any]:
    """JSON-safe dict of an event or reply (for the inbox and the outbox)."""
    return model.model_dump(mode="json")


_REPLY: TypeAdapter[Reply] = TypeAdapter(Reply)


def load_reply(payload: Any) -> Reply:
    """The reply an outbox row's payload holds (what `dump` wrote)."""
    return _REPLY.validate_python(payload)
