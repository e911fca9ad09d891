"""`python -m adapters` is the same as the `supportbot` command."""

from adapters.cli import main

main()
