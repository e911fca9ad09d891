"""Sends the core's neutral replies to Slack through the Web API.

Messages to one channel are paced (about one per second, Slack's posting limit);
a burst waits its turn instead of being dropped. 429s and 5xx are retried by
slack-sdk's own retry handlers, honouring Retry-After.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.base import OutletBase
from adapters.slack.live import SlackLiveMessage
from adapters.slack.render import (
    BLOCKS_PER_MESSAGE,
    FALLBACK_LIMIT,
    SECTION_LIMIT,
    answer_messages,
    card_blocks,
    clip,
    home_view,
    source_fallback,
    text_messages,
)
from bot import DeliveryFailed
from bot.events import (
    Actor,
    Ephemeral,
    Notify,
    Place,
    PostReply,
    PublishHome,
    Seen,
    TicketCard,
    UpdateCard,
)
from bot.pipeline.pacing import ChannelBuckets, Pace

__all__ = ["SlackOutlet", "retry_handlers"]

log = logging.getLogger(__name__)
SEEN_EMOJI = "eyes"
# A second add or a remove of a reaction that is gone: the sign is as wanted already.
SEEN_SETTLED = frozenset({"already_reacted", "no_reaction", "message_not_found"})


def retry_handlers() -> list[Any]:
    """slack-sdk's handlers for 429 (Retry-After) and 5xx, a few tries each."""
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


class SlackOutlet(OutletBase):
    """Renders and posts replies; returns the posted message's `ts`."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        pacing: ChannelBuckets | None = None,
        lead_group_id: str | None = None,
    ) -> None:
        self._client = client
        self._pacing = pacing or ChannelBuckets(Pace(per_second=1.0, burst=3))
        self._lead_group_id = lead_group_id

    async def update_card(self, reply: UpdateCard) -> str:
        """Edit the card's message in place (`chat.update`), keeping the answer that
        was posted with it."""
        blocks: list[Any] = card_blocks(reply.card)
        text = _card_text(reply.card)
        answer = answer_messages(reply.ref.text or "", reply.ref.sources, reply.ref.buttons)
        if answer and len(blocks) + len(answer[0]) <= BLOCKS_PER_MESSAGE:  # as it was posted
            blocks += answer[0]
            cited = reply.ref.sources if len(answer) == 1 else ()
            text = source_fallback(reply.ref.text or "", cited) or text
        await self._client.chat_update(
            channel=reply.ref.place.channel_id, ts=reply.ref.message_id, text=text, blocks=blocks
        )
        return reply.ref.message_id

    async def live(self, place: Place, requester: Actor, card: TicketCard) -> SlackLiveMessage:
        """A message to stream an answer into (Slack's streaming methods)."""
        return SlackLiveMessage(self._client, place, requester, turn=self._pacing.turn)

    async def seen(self, reply: Seen) -> None:
        """👀 on the mention while its answer is written (`reactions.add`), taken away
        after (`reactions.remove`). Not paced: reactions have their own rate tier.

        Best effort: a sign that cannot be shown (no `reactions:write`, a deleted
        message) is logged, not retried, so a late retry never leaves 👀 behind."""
        react = self._client.reactions_remove if reply.done else self._client.reactions_add
        try:
            await react(channel=reply.place.channel_id, timestamp=reply.message_id, name=SEEN_EMOJI)
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            level = logging.DEBUG if error in SEEN_SETTLED else logging.WARNING
            log.log(level, "slack.seen.not_shown error=%s", error)
        except (SlackClientError, OSError, TimeoutError) as exc:
            log.warning("slack.seen.not_shown error=%s", type(exc).__name__)

    async def publish_home(self, reply: PublishHome) -> None:
        """Publish the App Home tab (`views.publish`)."""
        await self._client.views_publish(
            user_id=reply.actor.user_id, view=home_view(reply.sections)
        )

    async def _send(self, channel: str, thread: str | None, **message: Any) -> str:
        # Run by the outbox relay's lane for this channel: waiting here holds no worker.
        await self._pacing.turn(channel)
        response = await self._client.chat_postMessage(
            channel=channel, thread_ts=thread, unfurl_links=False, unfurl_media=False, **message
        )
        return str(response["ts"])

    async def post_reply(self, reply: PostReply) -> str:
        """The card and the text's first part in one message, the rest of the text in
        more (the cited sources under the last); the first message's `ts`."""
        if reply.reply_handle and reply.text:  # a command answer shared with the channel
            await self._respond(reply.reply_handle, reply.text, response_type="in_channel")
            return ""
        place, first = reply.place, None
        messages = answer_messages(reply.text or "", reply.sources, reply.buttons)
        if reply.card is not None:  # the card leads, with the answer's first part under it
            card = card_blocks(reply.card)
            if messages and len(card) + len(messages[0]) <= BLOCKS_PER_MESSAGE:
                messages[0] = card + messages[0]
            else:
                messages.insert(0, card)
        for n, blocks in enumerate(messages, start=1):
            # The titles cited go in the fallback of the message that lists them.
            cited = reply.sources if n == len(messages) else ()
            fallback = source_fallback(reply.text, cited) if reply.text else None
            text = fallback or (_card_text(reply.card) if reply.card else "")
            if n == 1 and reply.live_message_id:  # streamed: the answer takes its place
                await self._client.chat_update(
                    channel=place.channel_id, ts=reply.live_message_id, text=text, blocks=blocks
                )
                ts = reply.live_message_id
            else:
                ts = await self._send(place.channel_id, place.thread_id, text=text, blocks=blocks)
            first = first or ts
        return first or ""

    async def notify(self, reply: Notify) -> str:
        """A leads-channel notice, pinging the lead group when asked."""
        ping = _ping(reply, self._lead_group_id)
        section = ping + clip(reply.text, SECTION_LIMIT - len(ping))
        blocks: list[Any] = [SectionBlock(text=MarkdownTextObject(text=section, verbatim=True))]
        if reply.card is not None:
            blocks += card_blocks(reply.card)
        fallback = ping + clip(reply.text, FALLBACK_LIMIT - len(ping))
        return await self._send(
            reply.place.channel_id, reply.place.thread_id, text=fallback, blocks=blocks
        )

    async def ephemeral(self, reply: Ephemeral) -> None:
        """Answer on the command's response_url, or `chat.postEphemeral`."""
        if reply.reply_handle:  # a slash command or button: answer on its response_url
            await self._respond(reply.reply_handle, reply.text, response_type="ephemeral")
            return
        await self._client.chat_postEphemeral(
            channel=reply.place.channel_id,
            user=reply.actor.user_id,
            thread_ts=reply.place.thread_id,
            text=clip(reply.text, FALLBACK_LIMIT),
            blocks=text_messages(reply.text)[0],
        )

    async def _respond(self, response_url: str, text: str, *, response_type: str) -> None:
        webhook = AsyncWebhookClient(response_url, retry_handlers=retry_handlers())
        response = await webhook.send(
            text=clip(text, FALLBACK_LIMIT),
            blocks=text_messages(text)[0],
            response_type=response_type,
            replace_original=False,
        )
        if response.status_code >= 400:
            raise DeliveryFailed(f"response_url answered HTTP {response.status_code}")


def _card_text(card: Any) -> str:
    return clip(f"Ticket #{card.ticket_id} ({card.status}): {card.summary}", FALLBACK_LIMIT)


def _ping(reply: Notify, lead_group_id: str | None) -> str:
    """The only pings the bot makes on purpose, in our own words: the ticket's team (its
    user group, else its leads), or the desk's lead group."""
    if not reply.ping_leads:
        return ""
    team = reply.team_ping
    if team is not None and team.usergroup_id:
        return f"<!subteam^{team.usergroup_id}> "
    if team is not None and team.user_ids:
        return " ".join(f"<@{user}>" for user in team.user_ids) + " "
    return f"<!subteam^{lead_group_id}> " if lead_group_id else ""
