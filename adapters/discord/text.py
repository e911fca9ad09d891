"""Text the bot writes on Discord: neutral, and cut only between characters.

Discord renders message content and embed text as markdown, so model- or user-written
text could form a masked link ``[text](url)`` (a phishing shape: the text can claim any
address) or mention syntax (``@everyone``, ``<@id>``, ``<@&id>``, ``<#id>``). Pings are
already off (`allowed_mentions`); this is about what the text looks like.

`neutralise` breaks both everywhere, code included: a masked link needs the two
characters ``](`` side by side, and Discord's own escape ``]\\(`` shows as ``](``; a
mention gets a zero-width space after its ``@`` or ``#``, as `discord.utils.escape_mentions`
does. Guessing where Discord sees code is not safe (a link's text may hold the backtick
that seems to open it), so inside code the escape shows; that is the price.

Cuts (`boundary`, `clip`, `split`) go by code points, as Discord counts, and never
inside what a reader sees as one character: an emoji sequence joined by ZWJs, a flag,
a letter and its combining marks, a skin-tone or variation selector.
"""

from __future__ import annotations

import re
import unicodedata

from adapters.base import split_text

__all__ = [
    "ELLIPSIS",
    "boundary",
    "clip",
    "escape_markdown",
    "neutralise",
    "neutralise_name",
    "no_unfurl",
    "split",
]

ELLIPSIS = "…"
ZWJ, ZWSP = "\u200d", "\u200b"
LONGEST_CLUSTER = 32  # code points; a longer "character" is cut anyway
_LINK = re.compile(r"\]\(")
_MENTION = re.compile(r"@(everyone|here)|<(@[!&]?|#)(?=\d+>)")
_URL = re.compile(r"(?<![<\w])https?://[^\s<>]+")
_URL_TAIL = ".,:;!?'\"*_~|"
_MARKDOWN = re.compile(r"([\\\[\]*_~`|])")
_SPACES = re.compile(r"\s+")


def neutralise(text: str) -> str:
    """`text` unable to form masked links or mentions, looking the same when rendered."""
    return _MENTION.sub(_break_mention, _LINK.sub(r"]\\(", text))


def neutralise_name(text: str) -> str:
    """The same for plain text such as thread names, where Discord shows no markdown
    and an escape would show: a zero-width space breaks the link instead."""
    return _MENTION.sub(_break_mention, _LINK.sub(f"]{ZWSP}(", text))


def escape_markdown(text: str) -> str:
    """`text` shown literally: markdown characters escaped, line breaks made spaces (so it
    stays on its line and inside a link's brackets), and neutralised as `neutralise` does.

    For text set inside the bot's own markup, such as a cited page's title.
    """
    return neutralise(_MARKDOWN.sub(r"\\\1", _SPACES.sub(" ", text).strip()))


def _break_mention(match: re.Match[str]) -> str:
    if match[1]:
        return f"@{ZWSP}{match[1]}"
    return f"<{match[2]}{ZWSP}"


def no_unfurl(text: str) -> str:
    """Bare URLs in ``<...>``, which Discord shows as the URL but does not preview.

    For messages that carry an embed of their own, where suppressing embeds would hide it.
    """
    return _URL.sub(_bracket, text)


def _bracket(match: re.Match[str]) -> str:
    url = match[0]
    end = len(url)
    # Trailing punctuation, and a ")" the URL did not open, end the sentence, not it.
    while end and (
        url[end - 1] in _URL_TAIL
        or (url[end - 1] == ")" and url.count(")", 0, end) > url.count("(", 0, end))
    ):
        end -= 1
    return f"<{url[:end]}>{url[end:]}"


def boundary(text: str, at: int) -> int:
    """The last place at or before `at` that does not cut a character a reader sees."""
    if at >= len(text):
        return len(text)
    for cut in range(at, max(at - LONGEST_CLUSTER, 0), -1):
        if not _joined(text, cut):
            return cut
    return at


def clip(text: str, limit: int) -> str:
    """`text` if it fits in `limit` code points, else cut between characters and marked."""
    if len(text) <= limit:
        return text
    head = text[: boundary(text, max(limit - len(ELLIPSIS), 0))]
    # No lone joiner or trailing space before the mark.
    return head.rstrip().rstrip(ZWJ).rstrip() + ELLIPSIS


def split(text: str, limit: int) -> list[str]:
    """`adapters.base.split_text`, with its hard cuts (no line or word end in reach)
    moved back to a character boundary. Nothing is lost, so the pieces are not marked."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        piece = split_text(rest[: limit + 1], limit)[0]
        if len(piece) == limit:  # a hard cut
            piece = rest[: boundary(rest, limit)]
        pieces.append(piece)
        rest = rest[len(piece) :].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def _joined(text: str, i: int) -> bool:
    """Whether text[i - 1] and text[i] belong to one character as a reader sees it
    (a close reading of Unicode's grapheme cluster rules, enough for cutting)."""
    before, after = text[i - 1], text[i]
    if _extends(after) or (before, after) == ("\r", "\n"):
        return True
    if before == ZWJ and _pictographic(after):
        return True
    if _regional(before) and _regional(after):
        run = 0
        while run < i and _regional(text[i - 1 - run]):
            run += 1
        return run % 2 == 1  # the second half of a flag
    return False


def _extends(ch: str) -> bool:
    code = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or ch in (ZWJ, "\u200c")
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tags (subdivision flags)
        or 0xE0100 <= code <= 0xE01EF
        or 0xDC00 <= code <= 0xDFFF  # a low surrogate: never apart from its pair
    )


def _pictographic(ch: str) -> bool:
    code = ord(ch)
    return 0x1F000 <= code <= 0x1FAFF or 0x2190 <= code <= 0x2BFF or code in (0xA9, 0xAE)


def _regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF
