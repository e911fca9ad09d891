"""The Discord adapter's lifecycle: a discord.py gateway client and the `/support` commands.

Every handler first hands its event to the core (which commits it to the inbox),
then answers Discord: interactions are deferred well inside their 3 seconds and
finished later with a follow-up. The same message seen twice (a gateway replay or
resume) is one inbox row, so one ticket. "Save as answer" is the exception: the press
is answered with a form (its draft read from `Drafts`, which is fast), and the form's
submit is the event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import discord
import yarl
from discord import app_commands

from adapters.base import Intake
from adapters.discord.commands import support_group
from adapters.discord.forms import SaveAnswerForms
from adapters.discord.outlet import DiscordOutlet
from adapters.discord.render import make_ticket_items
from adapters.discord.settings import DiscordSettings
from adapters.discord.to_event import (
    from_command,
    from_component,
    from_delete,
    from_edit,
    from_message,
    parse_custom_id,
    save_press,
)
from bot import AdapterStartError
from bot.config import LeadsSettings
from bot.pipeline.ports import Drafts

__all__ = ["DiscordAdapter", "DiscordStartError", "intents"]

log = logging.getLogger(__name__)

INTENT_HELP = (
    "Discord refused the Message Content intent. In the Developer Portal open "
    "your application -> Bot -> Privileged Gateway Intents, turn on MESSAGE "
    "CONTENT INTENT, save, and start the bot again."
)


class DiscordStartError(AdapterStartError):
    """The bot could not connect to Discord; the message says what to fix."""


def intents() -> discord.Intents:
    """Guilds, guild messages and message content (privileged: enable it in the portal)."""
    return discord.Intents(guilds=True, guild_messages=True, message_content=True)


class DiscordAdapter:
    """Translates Discord to `bot.events` and back; never touches the database or the model."""

    def __init__(
        self,
        *,
        intake: Intake,
        token: str,
        lead_role_ids: list[str],
        shard_count: int | None = None,
        shard_ids: list[int] | None = None,
        global_commands: bool = False,
        api_url: str | None = None,
        gateway_url: str | None = None,
        guild_ready_timeout: float = 2.0,
        on_ack: Callable[[float], None] | None = None,
        drafts: Drafts | None = None,
    ) -> None:
        _point_at(api_url, gateway_url)
        self._on_ack = on_ack
        self._intake = intake
        self._forms = SaveAnswerForms(intake, drafts, on_ack)
        self._token = token
        self._global_commands = global_commands
        if shard_count or shard_ids:
            self.client: discord.Client = discord.AutoShardedClient(
                intents=intents(),
                shard_count=shard_count,
                shard_ids=shard_ids or None,
                guild_ready_timeout=guild_ready_timeout,
            )
        else:
            self.client = discord.Client(intents=intents(), guild_ready_timeout=guild_ready_timeout)
        self.tree = app_commands.CommandTree(self.client)
        self._items = make_ticket_items(self._on_press)
        self.outlet = DiscordOutlet(self.client, self._items, lead_role_ids)
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._synced = False
        self._register()

    @classmethod
    def from_settings(
        cls,
        settings: DiscordSettings,
        *,
        leads: LeadsSettings,
        intake: Intake,
        guild_ready_timeout: float = 2.0,
        on_ack: Callable[[float], None] | None = None,
        drafts: Drafts | None = None,
    ) -> DiscordAdapter:
        """Build from the Discord settings (the bot token must be set) and the leads';
        `drafts` opens "Save as answer" forms (without it, the button says it is off)."""
        assert settings.bot_token is not None
        return cls(
            intake=intake,
            token=settings.bot_token.get_secret_value(),
            lead_role_ids=list(leads.role_ids),
            shard_count=settings.shard_count,
            shard_ids=list(settings.shard_ids),
            global_commands=settings.global_commands,
            api_url=settings.api_url,
            gateway_url=settings.gateway_url,
            guild_ready_timeout=guild_ready_timeout,
            on_ack=on_ack,
            drafts=drafts,
        )

    # --- gateway events ------------------------------------------------------

    def _register(self) -> None:
        self.client.setup_hook = self._setup_hook  # type: ignore[method-assign]
        self.client.event(self.on_ready)
        self.client.event(self.on_message)
        self.client.event(self.on_raw_message_edit)
        self.client.event(self.on_raw_message_delete)
        self.client.event(self.on_interaction)
        self.tree.add_command(support_group(self._command))

    async def _setup_hook(self) -> None:
        # Registered at start, so buttons on cards posted before a restart still work.
        self.client.add_dynamic_items(*self._items)

    async def on_ready(self) -> None:
        """Sync `/support` (per guild, or globally when configured) once, then go."""
        if not self._synced:
            self._synced = True
            await self._sync_commands()
        self._ready.set()
        log.info("discord.ready guilds=%s", len(self.client.guilds))

    async def _sync_commands(self) -> None:
        try:
            if self._global_commands:
                await self.tree.sync()
                return
            for guild in self.client.guilds:
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            log.warning("discord.commands.sync_failed code=%s", exc.code)

    async def on_message(self, message: discord.Message) -> None:
        """Every guild message with text goes to the core, which decides: mentions open
        tickets, and so do new messages in help channels and new posts in forum channels
        (the workspace's listening); other messages in ticket threads are stored.

        A forum post arrives as THREAD_CREATE (which puts the post in discord.py's
        cache) before its first message, so that message is placed in its post.
        """
        if self.client.user is None:
            return
        event = from_message(message, self.client.user.id)
        if event is not None and (event.text or event.mentions_bot):
            await self._intake.submit(event)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """Keep stored text in step with edits."""
        if self.client.user is None:
            return
        event = from_edit(payload, self.client.user.id)
        if event is not None:
            await self._intake.submit(event)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """Erase stored text of deleted messages."""
        event = from_delete(payload, self.client.get_channel(payload.channel_id))
        if event is not None:
            await self._intake.submit(event)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Take submitted forms; answer presses on buttons we no longer know, so nobody
        sees 'interaction failed'."""
        if interaction.type is discord.InteractionType.modal_submit:
            await self._forms.take(interaction)
            return
        if interaction.type is not discord.InteractionType.component:
            return
        data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]
        if parse_custom_id(str(data.get("custom_id", ""))) is None:
            await interaction.response.send_message(
                "This button is no longer in use.", ephemeral=True
            )

    # --- interactions --------------------------------------------------------

    async def _command(
        self, interaction: discord.Interaction, name: str, args: tuple[str, ...]
    ) -> None:
        event = from_command(interaction, name, args)
        if event is None:
            await interaction.response.send_message(
                "Use /support in a server channel.", ephemeral=True
            )
            return
        started = time.monotonic()
        await self._intake.submit(event)
        await interaction.response.defer(ephemeral="public" not in args, thinking=True)
        if self._on_ack is not None:
            self._on_ack(time.monotonic() - started)

    async def _on_press(self, interaction: discord.Interaction) -> None:
        request = save_press(interaction)
        if request is not None:
            await self._forms.offer(interaction, *request)
            return
        event = from_component(interaction)
        if event is None:
            await interaction.response.send_message(
                "Pick a value first, or use a newer card.", ephemeral=True
            )
            return
        started = time.monotonic()
        await self._intake.submit(event)
        await interaction.response.defer()  # the card is edited when the core is done
        if self._on_ack is not None:
            self._on_ack(time.monotonic() - started)

    def workspace_of_channel(self, channel_id: str) -> str | None:
        """The guild a channel is in (from the gateway's cache), or None if unknown."""
        channel = self.client.get_channel(int(channel_id)) if channel_id.isdigit() else None
        guild = getattr(channel, "guild", None)
        return str(guild.id) if guild is not None else None

    # --- lifecycle ------------------------------------------------------------

    async def start(self, ready_within: float = 60.0) -> None:
        """Log in and connect; returns once the gateway is ready.

        Raises:
            DiscordStartError: bad token, refused intents, or no READY in time.
        """
        self._task = asyncio.create_task(self.client.start(self._token), name="discord")
        ready = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait(
            {self._task, ready}, timeout=ready_within, return_when=asyncio.FIRST_COMPLETED
        )
        if ready in done:
            return
        ready.cancel()
        error = self._task.exception() if self._task in done else None
        await self.stop()
        if isinstance(error, discord.PrivilegedIntentsRequired):
            raise DiscordStartError(INTENT_HELP) from None
        if isinstance(error, discord.LoginFailure):
            raise DiscordStartError(
                "Discord refused DISCORD_BOT_TOKEN; reset it in the "
                "Developer Portal (Bot -> Reset Token)."
            ) from None
        raise DiscordStartError(
            f"Discord did not become ready ({type(error).__name__ if error else 'timeout'})"
        )

    async def stop(self) -> None:
        """Close the gateway connection."""
        await self.client.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None


def _point_at(api_url: str | None, gateway_url: str | None) -> None:
    """Aim discord.py at DISCORD_API_URL / DISCORD_GATEWAY_URL (proxies, local fakes).

    discord.py keeps both as class attributes, so this is process-wide by necessity.
    """
    if api_url:
        discord.http.Route.BASE = api_url.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
