"""Small validators and helpers the settings groups share (platform settings too)."""

from __future__ import annotations

from typing import Any

__all__ = ["comma_list", "mask_url_password", "url_of", "url_password"]


def comma_list(value: Any) -> Any:
    """A validator: `a, b,c` from the environment becomes ["a", "b", "c"]."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def url_of(*schemes: str) -> Any:
    """A validator that accepts URLs of these schemes only (`"http:"`, `"wss:"`...)."""

    def check_url(value: str) -> str:
        if not value.startswith(tuple(f"{scheme}//" for scheme in schemes)):
            article = "an" if schemes[0].startswith("h") else "a"  # "an http://", "a ws://"
            names = " or ".join(f"{scheme}//" for scheme in schemes)
            raise ValueError(f"{article} {names} URL")
        return value

    return check_url


def url_password(url: str) -> str | None:
    """The password in `scheme://user:password@host/...`, if there is one."""
    creds = url.partition("://")[2].rpartition("@")[0]
    return creds.split(":", 1)[1] if ":" in creds else None


def mask_url_password(url: str) -> str:
    """Replace the password in a URL with `***` so it can be printed."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in creds:
        return url
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
