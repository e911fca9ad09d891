"""`python -m bot` is the same as the `supportbot` command."""

from bot.cli import main

main()
