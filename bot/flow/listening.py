"""Where the bot listens: the note to a mention in a channel it takes no tickets in.

Which messages open tickets is decided by the workspace's `Listening` (allow, deny,
help and forum channels) at the intake and in `Arrivals.arrive`; this module holds
the one reply that decision may call for, built as a pure function.
"""

from __future__ import annotations

from bot.config.playbook import Listening
from bot.events import MessagePosted, PostReply
from bot.pipeline.keys import not_here_key

__all__ = ["not_here_reply", "not_here_text"]


def not_here_text(help_channels: int) -> str:
    """The note, in plain words: how many help channels the workspace has decides it.

    The channels are not named: reply text is shown literally on every platform (a
    channel link would have to be rendered by the adapter).
    """
    if help_channels == 0:
        return (
            "Sorry, I don't take tickets in this channel. Please ask in a channel where "
            "the support team takes questions."
        )
    where = "the help channel" if help_channels == 1 else "one of the help channels"
    return (
        f"Sorry, I don't take tickets in this channel. Please ask in {where} instead; "
        "I'll open a ticket for you there."
    )


def not_here_reply(event: MessagePosted, listening: Listening) -> PostReply:
    """The note, in the mention's thread, under its own outbox key."""
    place = event.place.model_copy(update={"thread_id": event.place.thread_id or event.message_id})
    return PostReply(
        key=not_here_key(event), place=place, text=not_here_text(len(listening.ask_in()))
    )
