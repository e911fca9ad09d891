"""The `/support` application commands: one per `CommandName`, each handed to the adapter."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.events import CommandName
from bot.flow.copy import COMMAND_HELP

__all__ = ["support_group"]


def support_group(run: Any) -> app_commands.Group:
    """`/support <command>` for every `CommandName`, each handed to `run`."""
    group = app_commands.Group(name="support", description="Support tickets and the lead queue")
    for name in CommandName:
        group.add_command(
            app_commands.Command(
                name=name.value,
                description=COMMAND_HELP[name][1][:100],  # Discord's limit
                callback=_callback(name, run),
            )
        )
    return group


def _callback(name: CommandName, run: Any) -> Any:
    """The slash command's handler; its parameters are the options Discord shows."""
    if name is CommandName.SUMMARY:

        async def summary(interaction: discord.Interaction, public: bool = False) -> None:
            await run(interaction, name, ("public",) if public else ())

        return summary
    if name is CommandName.COSTS:

        async def costs(interaction: discord.Interaction, window: str = "7d") -> None:
            await run(interaction, name, (window,))

        return costs
    if name is CommandName.TICKET:

        async def ticket(interaction: discord.Interaction, number: int) -> None:
            await run(interaction, name, (str(number),))

        return ticket

    async def plain(interaction: discord.Interaction) -> None:
        await run(interaction, name, ())

    return plain
