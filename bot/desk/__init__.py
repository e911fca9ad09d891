"""The leads' desk: `/support` commands, card actions, the home view."""
