"""Every sentence a requester or a lead reads from the bot, in one place.

Kept together so the voice stays one voice, and so changing a word (or, one day,
translating) touches one file. Functions take only what the sentence needs.
"""

from __future__ import annotations

from decimal import Decimal

from bot.config.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from bot.events import CommandName, TicketAction

# --- Requesters, in a ticket's thread --------------------------------------------------

EMPTY_MENTION = (
    "Hi! Tell me what you need help with, in one message that mentions me, "
    "and I will open a ticket in its thread."
)
SLOW_DOWN = (
    "You're sending messages faster than I can keep up with. I've saved them all, and a "
    "person from the support team will read them; no need to repeat anything."
)
FOLLOW_UP = "A person from the support team will follow up in this thread."
NO_ANSWER = "no answer could be written (the model failed or the budget is spent)"
CUT_SHORT = "(This answer was cut short. Mention me to go on, or a person can pick it up.)"
STREAM_STOPPED = "(I couldn't finish this answer; see my next message.)"
RESOLVED_NOTE = "Marked as resolved. Mention me here if you need more help."
REOPENED_NOTE = "Reopened; the support team will take another look."
STALE_CLOSED = "Closing this ticket after no reply. Mention me to reopen it any time."


def fallback_answer(ticket_id: int) -> str:
    """The answer when no model can write one: honest, and a person follows up."""
    return f"Thanks, this is ticket #{ticket_id}. {FOLLOW_UP}"


def escalated_note(ticket_id: int) -> str:
    """What the requester hears when their ticket goes to a person."""
    return (
        f"Thanks, this is ticket #{ticket_id}. I've passed it to the support team; "
        "a person will follow up in this thread."
    )


NOT_IN_DOCS = "the docs don't cover it (nothing relevant found, or the model abstained)"
SUGGESTIONS_INTRO = "While you wait, these pages may help:"


def not_in_docs_note(ticket_id: int) -> str:
    """What the requester hears when the docs don't answer their question."""
    return (
        f"Thanks, this is ticket #{ticket_id}. I couldn't find this in our docs, so I've "
        "passed it to the support team; a person will follow up in this thread."
    )


def suggestions(ticket_id: int, passages: list[tuple[int, str]]) -> str:
    """The escalation note with no model to answer: the best pages' first lines."""
    lines = [escalated_note(ticket_id), "", SUGGESTIONS_INTRO]
    lines += [f"[{number}] {passage}" for number, passage in passages]
    return "\n".join(lines)


def answer_saved(ticket_id: int, title: str) -> str:
    """The lead's confirmation that a resolved ticket became a knowledge-base answer."""
    return f"Saved ticket #{ticket_id} as an answer: “{title}”. The bot will use it from now on."


SAVE_ANSWER_INVALID = "Both the question and the answer need some text (at most 4,000 characters)."
SAVE_ANSWER_NOT_RESOLVED = "Only resolved tickets can be saved as answers."
SAVE_ANSWER_REFUSED = "Only support leads can save answers from resolved tickets here."
SAVE_ANSWER_UNAVAILABLE = "Saving answers isn't available on this bot."
SAVE_ANSWER_FORM_EXPIRED = "The form could not open in time. Press Save as answer again."
SAVE_ANSWER_DRAFT_FAILED = "The draft could not be loaded; try again in a moment."
SAVE_ANSWER_FORM_GONE = "This form is no longer in use; nothing was saved."
SAVE_ANSWER_SAVING = "Saving…"
SAVE_ANSWER_USE_FORM = "Press Save as answer on the ticket's card to review and save its answer."


def held_by_lead(ticket_id: int, *, claimed: bool) -> str:
    """A mention in a thread a person already has."""
    holder = "The lead who claimed it" if claimed else "A person from the team"
    return f"{holder} has ticket #{ticket_id} and will reply here; I've added your message to it."


REQUESTER_ASKED = "the requester asked for a person"


def solved_note(name: str) -> str:
    """Posted in the thread when the requester (or a lead) presses Solved."""
    return f"Marked as solved by {name}. Mention me here if you need more help."


def person_asked_note(ticket_id: int) -> str:
    """Posted in the thread when the requester presses I need a person."""
    return (
        f"I've asked the support team to take over ticket #{ticket_id}; "
        "a person will follow up in this thread."
    )


def already_with_person(ticket_id: int) -> str:
    """I need a person, pressed on a ticket a person already has."""
    return f"Ticket #{ticket_id} is already with the support team; a person will reply here."


def already_solved(ticket_id: int) -> str:
    """Solved, pressed on a ticket that is already resolved or closed."""
    return f"Ticket #{ticket_id} is already marked as resolved."


REQUESTER_BUTTONS_ONLY = "Only the person who asked (or a support lead) can use these buttons."
RATING_REQUESTER_ONLY = "Only the person who asked can rate this ticket."


def rating_ask(ticket_id: int) -> str:
    """Asked once when a ticket is resolved: the requester's satisfaction."""
    return f"Ticket #{ticket_id} is resolved. Did we help you?"


def rating_thanks(good: bool) -> str:
    """The requester's private confirmation of their rating."""
    return (
        "Thanks! Glad we could help."
        if good
        else "Thanks for telling us. The support team will see it."
    )


def claimed_note(lead_name: str) -> str:
    """Posted in the thread when a lead claims the ticket."""
    return f"A support lead ({lead_name}) has claimed this ticket."


def stale_warning(warn_days: float, close_days: float) -> str:
    """Posted in a quiet thread before it is closed."""
    return (
        f"This ticket has been quiet for {warn_days:g} days. Reply here if you still need "
        f"help; otherwise it closes in {close_days:g} days."
    )


# --- Leads -----------------------------------------------------------------------------


def escalation_notice(
    ticket_id: int, urgency: str | None, category: str | None, why: str, team: str | None = None
) -> str:
    """The leads channel's line above an escalation card (naming the team, if any)."""
    for_team = f", team {team}" if team else ""
    return f"Escalated ticket #{ticket_id} ({urgency} {category}{for_team}): {why}"


def budget_spent(daily_budget_usd: Decimal | None) -> str:
    """Once a day, when a workspace has spent its model budget."""
    return (
        f"The daily model budget (${daily_budget_usd}) is used up for this "
        "workspace: until midnight UTC, triage runs on rules, no answers are written, "
        "and every new ticket comes to you."
    )


def brief_notice(ticket_id: int, brief: str) -> str:
    """The reasoner's brief, posted for the leads."""
    return f"Brief for ticket #{ticket_id}:\n{brief}"


def reasoner_brief(ticket_id: int, brief: str | None) -> str:
    """The answer to a lead's "Ask reasoner"."""
    if brief is None:
        return "The reasoning model is not available right now (no API key, or it failed)."
    return f"Reasoner's brief for ticket #{ticket_id}:\n{brief}"


def sla_breached(
    ticket_id: int, late_minutes: int, urgency: str | None, category: str | None
) -> str:
    """An SLA reminder for an escalation nobody claimed."""
    return (
        f"SLA breached {late_minutes} min ago: ticket #{ticket_id} ({urgency} "
        f"{category}) is still unclaimed."
    )


LEADS_ONLY_BUTTONS = "Only support leads can use these buttons."


def pick_labels(taxonomy: Taxonomy = DEFAULT_TAXONOMY) -> str:
    """A reclassification with no label: the workspace's categories and urgencies."""
    categories = ", ".join(taxonomy.names)
    urgencies = ", ".join(level.name for level in taxonomy.urgencies)
    return f"Pick a category ({categories}) and/or an urgency ({urgencies})."


def unknown_label(word: str, taxonomy: Taxonomy = DEFAULT_TAXONOMY) -> str:
    """A reclassification to a category (or urgency) this workspace does not have."""
    shown = word if len(word) <= 40 else word[:39] + "…"
    return f"“{shown}” is not a category or an urgency here. {pick_labels(taxonomy)}"


def satisfaction(days: float, good: int, bad: int, unrated: int) -> str:
    """The answer to `/support csat`: ratings of tickets resolved in the window."""
    rated = good + bad
    if not rated:
        return f"No ratings in the last {days:g} days ({unrated} resolved ticket(s) not rated)."
    return (
        f"Satisfaction, last {days:g} days: {good / rated:.0%} good "
        f"(👍 {good}, 👎 {bad}); {unrated} resolved ticket(s) not rated."
    )


def escalated_by_requester(ticket_id: int, urgency: str | None, category: str | None) -> str:
    """The leads channel's line when a requester asks for a person."""
    return f"Ticket #{ticket_id} ({urgency} {category}): the requester asked for a person."


def leads_only_command(name: str) -> str:
    """A lead-only command refused."""
    return f"Only support leads can use `{name}`."


def no_such_ticket(ticket_id: int, *, here: bool = False) -> str:
    """A ticket number that does not exist (here)."""
    return (
        f"There is no ticket #{ticket_id} here."
        if here
        else f"Ticket #{ticket_id} no longer exists."
    )


def cannot_change(ticket_id: int, status: str, action: str) -> str:
    """A lead asked for a change the ticket's status does not allow."""
    done = _DONE.get(action, f"changed ({action})")
    return f"Ticket #{ticket_id} is {status}; it can't be {done} now."


_DONE = {
    "claim": "claimed",
    "resolve": "resolved",
    "reopen": "reopened",
    "reclassify": "reclassified",
    "ask-reasoner": "sent to the reasoner",
    "save-answer": "saved as an answer",
}


# --- Card buttons ----------------------------------------------------------------------

ACTION_LABELS: dict[TicketAction, str] = {
    TicketAction.CLAIM: "Claim",
    TicketAction.RESOLVE: "Resolve",
    TicketAction.REOPEN: "Reopen",
    TicketAction.RECLASSIFY: "Reclassify",
    TicketAction.ASK_REASONER: "Ask reasoner",
    TicketAction.SAVE_ANSWER: "Save as answer",
    TicketAction.SOLVED: "Solved",
    TicketAction.NEED_PERSON: "I need a person",
    TicketAction.RATE_GOOD: "👍",
    TicketAction.RATE_BAD: "👎",
}
"""How each action reads on a button, on every platform."""


def label(value: str) -> str:
    """A category or urgency as a person reads it: `feature_request` -> `feature request`."""
    return value.replace("_", " ")


# --- Commands --------------------------------------------------------------------------

COMMAND_HELP: dict[CommandName, tuple[str, str]] = {
    CommandName.SUMMARY: (
        "summary",
        "in a ticket thread: that ticket's summary; elsewhere: open tickets here",
    ),
    CommandName.ESCALATIONS: (
        "escalations",
        "(leads) open escalations, oldest first, with SLA state",
    ),
    CommandName.COSTS: ("costs [7d]", "(leads) spend on model calls by model and purpose"),
    CommandName.CSAT: ("csat [30d]", "(leads) how satisfied requesters were with resolved tickets"),
    CommandName.TICKET: ("ticket N", "one ticket's card and summary"),
    CommandName.FORGET_ME: (
        "forget-me",
        "erase the text of every message you wrote that the bot stored",
    ),
    CommandName.DASHBOARD: ("dashboard", "(leads) a private link to sign in to the web dashboard"),
    CommandName.HELP: ("help", "this list"),
}
"""Each command's usage and what it does: the help text, and each platform's menu."""

HELP = "\n".join(
    [
        "supportbot commands:",
        *(f"  {usage:<16} {what}" for usage, what in COMMAND_HELP.values()),
        'Answers are only for you; add "public" (e.g. `summary public`) to share one.',
        "Mention the bot in a channel to open a ticket; reply in its thread to add to it.",
    ]
)


def help_text(taxonomy: Taxonomy = DEFAULT_TAXONOMY) -> str:
    """The help, with the categories tickets are sorted into in this workspace."""
    categories = ", ".join(label(name) for name in taxonomy.names)
    return f"{HELP}\nTickets here are sorted into: {categories}."


NO_OPEN_TICKETS = "No open tickets in this channel."
NOT_SHARED = (
    "(Only support leads can share ticket details, and only in the ticket's own channel: "
    "this answer is just for you.)"
)
NO_ESCALATIONS = "No open escalations."
TICKET_USAGE = "Usage: ticket N (the ticket number, e.g. `ticket 12`)."
NOTHING_WAITING = "Nothing waiting. Nice."


def forgotten(count: int) -> str:
    """The answer to `forget-me`."""
    return f"Done: erased the text of {count} stored message(s) you wrote."


def dashboard_link(url: str, minutes: int) -> str:
    """A lead's private login link for the web dashboard."""
    return (
        f"Your dashboard login link (just for you; it works once, for {minutes} minutes):\n"
        f"{url}\nDon't share it: whoever opens it first is signed in as you."
    )


DASHBOARD_REFUSED = "Only support leads of this workspace can open the dashboard."
DASHBOARD_UNAVAILABLE = "The web dashboard isn't set up on this bot."
