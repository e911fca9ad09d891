"""Sends the core's neutral replies to Discord over REST (discord.py handles 429s).

Nothing the bot posts can ping anyone, except the configured lead roles on an
escalation notice: every send carries explicit `allowed_mentions`. Nor can its text
look like a link or a mention (`render`; the only masked links are an answer's own
sources), and URLs in it are not previewed: messages of text suppress embeds, and
those with a card of their own bracket their URLs.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

import discord

from adapters.base import OutletBase
from adapters.discord.live import DiscordLiveMessage
from adapters.discord.render import (
    CONTENT_LIMIT,
    NO_PINGS,
    add_buttons,
    card_embed,
    notice_content,
    reply_content,
    split_content,
    thread_name,
    ticket_view,
)
from adapters.discord.text import no_unfurl
from bot.events import Actor, Ephemeral, Notify, Place, PostReply, Seen, TicketCard, UpdateCard

__all__ = ["DiscordOutlet"]

log = logging.getLogger(__name__)

THREAD_EXISTS = 160004
THREAD_ARCHIVE_MINUTES = 10080  # a week: tickets outlive Discord's one-day default
SEEN_EMOJI = "\N{EYES}"


class DiscordOutlet(OutletBase):
    """Renders replies as embeds, buttons and plain content."""

    def __init__(
        self, client: discord.Client, items: tuple[type[Any], ...], lead_role_ids: list[str]
    ) -> None:
        self._client = client
        self._items = items
        self._lead_role_ids = lead_role_ids
        self._threads: set[str] = set()

    # No publish_home: Discord has no home tab; leads use /support escalations.

    async def ephemeral(self, reply: Ephemeral) -> None:
        """A private follow-up on the interaction."""
        await self._followup(reply.reply_handle, split_content(reply.text), ephemeral=True)

    async def update_card(self, reply: UpdateCard) -> str:
        """Edit the card's message in place, keeping the requester's buttons when the
        answer they sit under was posted in it."""
        ref = reply.ref
        place = ref.place
        channel = self._client.get_partial_messageable(int(place.thread_id or place.channel_id))
        view = ticket_view(reply.card, self._items)
        if ref.text and _fits_with_card(reply_content(ref.text, ref.sources)):
            view = add_buttons(view, ref.buttons, self._items)
        await channel.get_partial_message(int(ref.message_id)).edit(
            embed=card_embed(reply.card), view=view, allowed_mentions=NO_PINGS
        )
        return ref.message_id

    async def live(self, place: Place, requester: Actor, card: TicketCard) -> DiscordLiveMessage:
        """A message to stream an answer into: posted with the first words, then edited."""

        async def channel() -> discord.PartialMessageable:
            return await self._thread(place, thread_name(card))

        return DiscordLiveMessage(channel)

    async def seen(self, reply: Seen) -> None:
        """👀 on the mention while its answer is written, taken away after. Best effort:
        a sign that cannot be shown is logged, never retried (a late retry would leave
        it behind)."""
        place = reply.place
        # A new ticket's mention is in the channel (its thread has the mention's id);
        # a follow-up's is in the thread, and so is a forum post's first message.
        in_channel = place.thread_id in (None, reply.message_id) and not self._in_forum(place)
        where = int(place.channel_id if in_channel else place.thread_id or place.channel_id)
        message = self._client.get_partial_messageable(where).get_partial_message(
            int(reply.message_id)
        )
        try:
            if reply.done:
                await message.remove_reaction(SEEN_EMOJI, self._self())
            else:
                await message.add_reaction(SEEN_EMOJI)
        except (discord.HTTPException, OSError, TimeoutError) as exc:
            log.warning("discord.seen.not_shown error=%s", type(exc).__name__)

    def _in_forum(self, place: Place) -> bool:
        """Whether the ticket's channel is a forum (each post is a thread of its own)."""
        channel = self._client.get_channel(int(place.channel_id))
        return isinstance(channel, discord.ForumChannel)

    def _self(self) -> discord.abc.Snowflake:
        user = self._client.user
        if user is None:  # not logged in yet: nothing to take away
            raise discord.ClientException("not logged in")
        return user

    async def _thread(self, place: Place, name: str) -> discord.PartialMessageable:
        """The ticket's thread, created from its first message when it does not exist yet."""
        guild_id = int(place.workspace_id) if place.workspace_id.isdigit() else None
        if place.thread_id is None:
            return self._client.get_partial_messageable(int(place.channel_id), guild_id=guild_id)
        if place.thread_id not in self._threads and self._in_forum(place):
            self._threads.add(place.thread_id)  # a forum post is its own thread already
        if place.thread_id not in self._threads:
            # create_thread needs to know the guild, or discord.py refuses before sending.
            parent = self._client.get_partial_messageable(int(place.channel_id), guild_id=guild_id)
            try:
                await parent.get_partial_message(int(place.thread_id)).create_thread(
                    name=name, auto_archive_duration=THREAD_ARCHIVE_MINUTES
                )
            except discord.HTTPException as exc:
                # Already created (a retry, or a thread the user opened): post there anyway.
                if exc.code != THREAD_EXISTS:
                    log.info("discord.thread.not_created code=%s", exc.code)
            self._threads.add(place.thread_id)
        return self._client.get_partial_messageable(int(place.thread_id), guild_id=guild_id)

    async def post_reply(self, reply: PostReply) -> str:
        """The card with the text's first part, then the rest and its sources, in the
        ticket's thread (created on first use). An edit of the card keeps the text."""
        pieces = reply_content(reply.text, reply.sources)
        if reply.reply_handle and reply.text:  # a command answer shared with the channel
            return await self._followup(reply.reply_handle, pieces, ephemeral=False) or ""
        channel = await self._thread(reply.place, thread_name(reply.card))
        first: str | None = None
        pieces = [piece for piece in pieces if piece]
        if reply.card is not None:  # the card, with the text's first part in the same message
            # The message carries the card's embed, so links are kept from previewing one
            # by one rather than by suppressing every embed.
            head = no_unfurl(pieces[0]) if pieces else None
            if head is not None and len(head) <= CONTENT_LIMIT:
                pieces.pop(0)
            else:
                head = None
            view = ticket_view(reply.card, self._items)
            if not pieces:  # the whole answer is in this message: its buttons too
                view = add_buttons(view, reply.buttons, self._items)
            message = {"content": head, "embed": card_embed(reply.card), "view": view}
            first = await self._send_first(channel, reply, message, "card")
        for index, piece in enumerate(pieces):
            extra: dict[str, Any] = {}
            if index == len(pieces) - 1:  # the requester's buttons go under the last part
                tail = add_buttons(None, reply.buttons, self._items)
                extra = {"view": tail} if tail is not None else {}
            message = {"content": piece, "suppress_embeds": True, **extra}
            sent_id = await self._send_first(channel, reply, message, index) if not first else None
            if sent_id is None:
                sent = await channel.send(
                    **message, allowed_mentions=NO_PINGS, **_nonce(reply.key, index)
                )
                sent_id = str(sent.id)
            first = first or sent_id
        return first or ""

    async def _send_first(
        self,
        channel: discord.PartialMessageable,
        reply: PostReply,
        message: dict[str, Any],
        part: object,
    ) -> str:
        """A reply's first message: sent, or, when the answer was streamed, put in place
        of the message it was streamed into."""
        if reply.live_message_id:
            # An edit cannot set the suppress-embeds flag: bracketed URLs do not preview.
            if message.pop("suppress_embeds", False) and message.get("content"):
                message = {**message, "content": no_unfurl(message["content"])}
            await channel.get_partial_message(int(reply.live_message_id)).edit(
                **message, allowed_mentions=NO_PINGS
            )
            return reply.live_message_id
        sent = await channel.send(**message, allowed_mentions=NO_PINGS, **_nonce(reply.key, part))
        return str(sent.id)

    async def notify(self, reply: Notify) -> str:
        """A leads-channel notice, pinging only the lead roles when asked."""
        roles, users = self._pinged(reply)
        pings = " ".join([*(f"<@&{role.id}>" for role in roles), *(f"<@{u.id}>" for u in users)])
        content = notice_content(pings, reply.text, with_embed=reply.card is not None)
        allowed = discord.AllowedMentions(
            everyone=False, users=users or False, roles=roles, replied_user=False
        )
        channel = self._client.get_partial_messageable(int(reply.place.channel_id))
        kwargs: dict[str, Any] = {"content": content, "allowed_mentions": allowed}
        if reply.card is not None:
            kwargs.update(embed=card_embed(reply.card), view=ticket_view(reply.card, self._items))
        else:
            kwargs.update(suppress_embeds=True)
        sent = await channel.send(**kwargs, **_nonce(reply.key, "notify"))
        return str(sent.id)

    def _pinged(self, reply: Notify) -> tuple[list[discord.Object], list[discord.Object]]:
        """The roles and users a notice pings: the ticket's team (its roles, else its
        leads), or the desk's lead roles; nobody unless asked."""
        if not reply.ping_leads:
            return [], []
        team = reply.team_ping
        guild_id = reply.place.workspace_id
        if team is not None and team.role_ids:
            return self._lead_roles(guild_id, team.role_ids), []
        if team is not None and team.user_ids:
            return [], [discord.Object(int(u)) for u in team.user_ids if u.isdigit()]
        return self._lead_roles(guild_id, self._lead_role_ids), []

    def _lead_roles(self, guild_id: str, role_ids: Sequence[str]) -> list[discord.Object]:
        guild = self._client.get_guild(int(guild_id)) if guild_id.isdigit() else None
        if guild is None:
            return []
        return [
            discord.Object(int(r))
            for r in role_ids
            if r.isdigit() and guild.get_role(int(r)) is not None
        ]

    async def _followup(
        self, handle: str | None, pieces: list[str], *, ephemeral: bool
    ) -> str | None:
        """Answer an interaction through its webhook (valid 15 minutes), in rendered pieces."""
        if not handle:
            log.info("discord.reply.dropped reason=no_interaction")
            return None
        application_id, _, token = handle.partition(":")
        # The webhook Interaction.followup builds (type 3 = application webhook); there is
        # no public constructor for it, hence the client's private connection state.
        webhook = discord.Webhook.from_state(
            data={"id": int(application_id), "type": 3, "token": token},
            state=self._client._connection,
        )
        first = None
        for piece in pieces:
            sent = await webhook.send(
                content=piece,
                ephemeral=ephemeral,
                wait=True,
                allowed_mentions=NO_PINGS,
                suppress_embeds=True,
            )
            first = first or str(sent.id)
        return first


def _fits_with_card(pieces: list[str]) -> bool:
    """Whether an answer of these pieces went in its card's message whole."""
    pieces = [piece for piece in pieces if piece]
    return len(pieces) == 1 and len(no_unfurl(pieces[0])) <= CONTENT_LIMIT


def _nonce(key: str, part: object) -> dict[str, str]:
    """A nonce Discord de-duplicates on (discord.py sets enforce_nonce), from the reply key,
    so a send repeated after a crash does not post twice. Nonces are at most 25 chars."""
    if not key:
        return {}
    return {"nonce": hashlib.sha256(f"{key}|{part}".encode()).hexdigest()[:25]}
