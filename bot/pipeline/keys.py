"""Every outbox key, one named constructor each.

A reply's key is derived from what caused it, so doing the same work twice (a retry
after a crash, a second instance) writes the same key and posts nothing twice.
Keep the formats stable: changing one would re-send replies already sent.
"""

from __future__ import annotations

from datetime import datetime

from bot.events import ActionInvoked, AnswerApproved, CommandInvoked, HomeOpened, MessagePosted

__all__ = [
    "answer_key",
    "brief_key",
    "budget_key",
    "card_key",
    "card_update_key",
    "command_reply_key",
    "digest_key",
    "escalation_key",
    "event_reply_key",
    "home_key",
    "not_here_key",
    "note_key",
    "person_key",
    "rate_key",
    "rating_key",
    "seen_done_key",
    "seen_key",
    "sla_key",
    "stale_close_key",
    "stale_warn_key",
]

DeskEvent = CommandInvoked | ActionInvoked | AnswerApproved | HomeOpened


def answer_key(event: MessagePosted) -> str:
    """The bot's one reply to a message (an answer, a note, a hint)."""
    return f"msg:{event.place.platform}:{event.message_id}:answer"


def not_here_key(event: MessagePosted) -> str:
    """The note to a mention in a channel the bot takes no tickets in."""
    return f"msg:{event.place.platform}:{event.message_id}:not-here"


def card_key(ticket_id: int) -> str:
    """The ticket card in its own thread."""
    return f"ticket:{ticket_id}:card"


def escalation_key(ticket_id: int) -> str:
    """The escalation card in the leads channel."""
    return f"ticket:{ticket_id}:escalation"


def brief_key(ticket_id: int) -> str:
    """The reasoner's brief for the leads."""
    return f"ticket:{ticket_id}:brief"


def budget_key(platform: str, workspace_id: str, now: datetime) -> str:
    """The once-a-day notice that a workspace spent its model budget."""
    return f"budget:{platform}:{workspace_id}:{now:%Y-%m-%d}"


def rate_key(platform: str, user_id: str, now: datetime) -> str:
    """The once-a-minute "slow down" reply to a fast user."""
    return f"rate:{platform}:{user_id}:{now:%Y%m%d%H%M}"


def command_reply_key(event: DeskEvent) -> str:
    """The answer to a command or a button press."""
    return event_reply_key(event.place.platform, event.event_id)


def event_reply_key(platform: str, event_id: str) -> str:
    """`command_reply_key` from a stored event's platform and id (erasure looks them up)."""
    return f"event:{platform}:{event_id}:reply"


def card_update_key(event: ActionInvoked, index: int) -> str:
    """The re-render of a ticket's `index`-th card after a lead's action."""
    return f"event:{event.place.platform}:{event.event_id}:card:{index}"


def note_key(event: ActionInvoked) -> str:
    """The note in the ticket's thread that a lead acted (claimed, resolved, reopened)."""
    return f"event:{event.place.platform}:{event.event_id}:note"


def person_key(event: ActionInvoked) -> str:
    """The leads' notice (with the card) that a requester asked for a person."""
    return f"event:{event.place.platform}:{event.event_id}:person"


def rating_key(ticket_id: int) -> str:
    """The one question to the requester, once resolved: did we help?"""
    return f"ticket:{ticket_id}:rating"


def seen_key(event: MessagePosted) -> str:
    """The sign (👀, typing) that a message was seen and an answer is on its way."""
    return f"msg:{event.place.platform}:{event.message_id}:seen"


def seen_done_key(event: MessagePosted) -> str:
    """Taking that sign away once the answer (or a hand-over) is written."""
    return f"msg:{event.place.platform}:{event.message_id}:seen-done"


def home_key(event: HomeOpened) -> str:
    """A published home view."""
    return f"event:{event.place.platform}:{event.event_id}:home"


def sla_key(ticket_id: int, threshold: int) -> str:
    """The `threshold`-th SLA reminder for an unclaimed escalation."""
    return f"ticket:{ticket_id}:sla:{threshold}"


def stale_warn_key(ticket_id: int, last_activity: datetime) -> str:
    """The quiet-thread warning about the activity at `last_activity`."""
    return f"ticket:{ticket_id}:stale-warn:{last_activity:%Y%m%d%H%M%S}"


def stale_close_key(ticket_id: int, last_activity: datetime) -> str:
    """The closing note after that warning went unanswered."""
    return f"ticket:{ticket_id}:stale-close:{last_activity:%Y%m%d%H%M%S}"


def digest_key(platform: str, workspace_id: str, now: datetime) -> str:
    """A workspace's daily digest."""
    return f"digest:{platform}:{workspace_id}:{now:%Y-%m-%d}"
