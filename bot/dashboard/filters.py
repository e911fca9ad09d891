"""The pages' query parameters, read and checked: a bad one is named, never a crash.

Every parameter is optional and an empty one means "any" (an HTML form sends its
empty selects). A value that is not one of the choices, a malformed date or page
number, or a search too long raises `BadParameter` naming the parameter, which the
pages answer with a 400 page.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date
from urllib.parse import urlencode

from bot import SupportbotError
from bot.config.taxonomy import URGENCY_NAMES, normal_name
from bot.events import TicketStatus
from bot.tickets.search import BadSearch, search_words
from triage.route import Route

__all__ = [
    "DEFAULT_WINDOW",
    "WINDOWS",
    "BadParameter",
    "TicketFilters",
    "parse_filters",
    "parse_window",
]

WINDOWS = {"7d": 7, "30d": 30, "90d": 90}
"""The analytics and costs windows, in days (today included)."""
DEFAULT_WINDOW = "30d"
MAX_PAGE = 10_000
_CHANNEL = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadParameter(SupportbotError, ValueError):
    """A query parameter the page cannot use; `name` says which."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name
        self.problem = problem


@dataclass(frozen=True)
class TicketFilters:
    """What the tickets page lists: every field None (or empty) means any."""

    status: str | None = None
    category: str | None = None
    urgency: str | None = None
    route: str | None = None
    channel: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    """Inclusive: tickets opened on this UTC day count."""
    q: str = ""
    page: int = 1

    @property
    def words(self) -> list[str]:
        """The search's words (none: no search)."""
        return search_words(self.q)

    def query(self, **changes: object) -> str:
        """These filters (with `changes`) as a query string, for links to other pages."""
        values = asdict(replace(self, **changes))  # type: ignore[arg-type]
        names = {"date_from": "from", "date_to": "to"}
        pairs = [
            (names.get(key, key), str(value))
            for key, value in values.items()
            if value not in (None, "") and not (key == "page" and value == 1)
        ]
        return urlencode(pairs)


def _choice(params: Mapping[str, str], name: str, choices: Collection[str]) -> str | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    if value not in choices:
        shown = ", ".join(choices) if len(choices) <= 12 else f"one of {len(choices)} values"
        raise BadParameter(name, f"{value[:40]!r} is not one of {shown}")
    return value


def _day(params: Mapping[str, str], name: str) -> date | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise BadParameter(name, "expected a date as YYYY-MM-DD") from None


def _page(params: Mapping[str, str]) -> int:
    value = params.get("page", "").strip() or "1"
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise BadParameter("page", f"expected a page number from 1 to {MAX_PAGE}")
    return int(value)


def parse_filters(params: Mapping[str, str], categories: Mapping[str, str]) -> TicketFilters:
    """The tickets page's filters from its query parameters.

    Args:
        params: the request's query (`status`, `category`, `urgency`, `route`,
            `channel`, `from`, `to`, `q`, `page`).
        categories: every name a category of the lead's workspaces goes by (today's
            and former ones) -> its name today.

    Raises:
        BadParameter: naming the first parameter that is not usable.
    """
    category = None
    raw_category = params.get("category", "").strip()
    if raw_category:
        category = categories.get(normal_name(raw_category))
        if category is None:
            today = sorted(set(categories.values()))
            raise BadParameter(
                "category", f"{raw_category[:40]!r} is not one of {', '.join(today)}"
            )
    channel = params.get("channel", "").strip() or None
    if channel is not None and not _CHANNEL.match(channel):
        raise BadParameter("channel", "expected a channel id (letters, digits, . _ : -)")
    date_from, date_to = _day(params, "from"), _day(params, "to")
    if date_from and date_to and date_to < date_from:
        raise BadParameter("to", "is before from")
    q = params.get("q", "").strip()
    try:
        search_words(q)
    except BadSearch as exc:
        raise BadParameter("q", str(exc)) from None
    return TicketFilters(
        status=_choice(params, "status", [s.value for s in TicketStatus]),
        category=category,
        urgency=_choice(params, "urgency", URGENCY_NAMES),
        route=_choice(params, "route", [r.value for r in Route]),
        channel=channel,
        date_from=date_from,
        date_to=date_to,
        q=q,
        page=_page(params),
    )


def parse_window(params: Mapping[str, str]) -> tuple[str, int]:
    """The `since` window (`7d`, `30d` or `90d`; 30 days when not given), as its name
    and its number of days.

    Raises:
        BadParameter: any other value.
    """
    name = params.get("since", "").strip() or DEFAULT_WINDOW
    if name not in WINDOWS:
        raise BadParameter("since", f"{name[:20]!r} is not one of {', '.join(WINDOWS)}")
    return name, WINDOWS[name]
