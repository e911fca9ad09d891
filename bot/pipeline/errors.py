"""Errors as they are stored (`last_error` of an event or a reply) and logged.

The error's class plus its message, passed through the scrubber the wiring gives (the
app's redactor) and cut short, so a platform or handler error that quotes an address
or a token does not keep it in the database; a reply's own texts are cut out first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.events import Reply

__all__ = ["ERROR_CHARS", "describe_error", "reply_texts"]

ERROR_CHARS = 1000
"""The longest stored error text."""
_HIDDEN = "[REPLY]"
_MIN_HIDDEN_CHARS = 8  # shorter texts ("ok", "Done") would blank ordinary words


def describe_error(
    error: BaseException | str,
    scrub: Callable[[str], str] = str,  # no scrubbing unless the wiring gives one
    *,
    hide: Iterable[str] = (),
    limit: int = ERROR_CHARS,
) -> str:
    """`Class: message` for storing: texts in `hide` cut out, scrubbed, at most `limit` long."""
    if isinstance(error, BaseException):
        message = str(error)
        for text in sorted({t for t in hide if len(t) >= _MIN_HIDDEN_CHARS}, key=len, reverse=True):
            message = message.replace(text, _HIDDEN)
        error = f"{type(error).__name__}: {message}" if message else type(error).__name__
    head = error[: limit * 4]
    if len(head) < len(error) and " " in head:
        head = head.rsplit(" ", 1)[0]  # no half value at the cut for the scrubber to miss
    clean = scrub(head)
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


def reply_texts(reply: Reply) -> list[str]:
    """What a reply says, whole and line by line: the `hide` of its send errors, so an
    error that quotes the reply (a platform echoing the request) never keeps it."""
    texts = [getattr(reply, "text", None) or ""]
    card = getattr(reply, "card", None)
    if card is not None:
        texts.append(card.summary)
    for section in getattr(reply, "sections", ()):
        texts += [section.title, *section.lines]
    return [part for text in texts for part in (text, *text.splitlines()) if part.strip()]
