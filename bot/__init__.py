"""supportbot's platform-free core.

The project's errors live here, at the root, so every layer (and every adapter) can
raise and catch them without importing anything else. Each one is operator-facing:
its message says what went wrong and what to do, and never holds a secret or message
text.
"""

from __future__ import annotations

__all__ = ["AdapterStartError", "ConfigError", "DeliveryFailed", "SupportbotError"]


class SupportbotError(Exception):
    """Base of every error supportbot raises on purpose."""


class ConfigError(SupportbotError):
    """A setting has a wrong value; the message names the setting and what it expects."""


class DeliveryFailed(SupportbotError):
    """A reply could not be sent; the event is retried and only unsent replies resent."""


class AdapterStartError(SupportbotError):
    """A platform adapter could not start; the message tells the operator what to fix."""
