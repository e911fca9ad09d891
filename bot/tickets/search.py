"""Full-text search over what tickets say: their messages and their summary.

Done by the database's own engine (migration 0011): FTS5 tables `messages_fts` and
`tickets_fts` on SQLite, the generated `search` tsvector columns with GIN indexes on
PostgreSQL. A ticket matches when one of its messages, or its summary, holds every
word searched for (stemmed: "crashes" finds "crash"). What a person types is text:
words are taken out of it and quoted, so no FTS5 or tsquery syntax in it is read as
an operator. English stopwords ("the", "and", "not") are left out on both engines, as
PostgreSQL's english configuration leaves them out, so both find the same tickets.
Erased text is gone from the indexes, so it no longer matches.
"""

from __future__ import annotations

import re

from sqlalchemy import (
    ColumnElement,
    Text,
    bindparam,
    cast,
    column,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
)

from bot import SupportbotError
from bot.store.models import Message, Ticket

__all__ = [
    "MAX_QUERY_CHARS",
    "STOPWORDS",
    "BadSearch",
    "fts5_query",
    "search_words",
    "text_matches",
]

MAX_QUERY_CHARS = 200
MAX_WORDS = 16
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# PostgreSQL's english stopword list (Snowball's), so SQLite drops the same words.
STOPWORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will
    just don should now""".split()  # noqa: SIM905 (a list is unreadable)
)

_MESSAGES_FTS = table("messages_fts", column("rowid"))
_TICKETS_FTS = table("tickets_fts", column("rowid"))
_MESSAGES = table("messages", column("id"), column("ticket_id"), column("search"))
_TICKETS = table("tickets", column("id"), column("search"))


class BadSearch(SupportbotError, ValueError):
    """A search too long to be a search."""


def search_words(query: str) -> list[str]:
    """The words of a search box's text, lower-cased, in order, once each, stopwords left
    out (none: the search matches nothing).

    Raises:
        BadSearch: the text is longer than `MAX_QUERY_CHARS`.
    """
    if len(query) > MAX_QUERY_CHARS:
        raise BadSearch(f"a search is at most {MAX_QUERY_CHARS} characters")
    words = (word for word in _WORD.findall(query.lower()) if word not in STOPWORDS)
    return list(dict.fromkeys(words))[:MAX_WORDS]


def fts5_query(words: list[str]) -> str:
    """An FTS5 MATCH expression that finds rows holding every word, each quoted."""
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words)


def text_matches(words: list[str], dialect: str) -> ColumnElement[bool]:
    """A condition on `Ticket.id`: one of its messages, or its summary, holds every word.

    Args:
        words: from `search_words`; none matches nothing.
        dialect: the database's dialect name ("sqlite" or "postgresql").
    """
    if not words:
        return false()
    if dialect == "sqlite":
        match = bindparam("ticket_search", fts5_query(words))
        in_messages = (
            select(Message.ticket_id)
            .join(_MESSAGES_FTS, _MESSAGES_FTS.c.rowid == Message.id)
            .where(literal_column("messages_fts").op("MATCH")(match))
        )
        in_summary = select(_TICKETS_FTS.c.rowid).where(
            literal_column("tickets_fts").op("MATCH")(match)
        )
    else:
        # plainto_tsquery reads no operators: every word is required, punctuation is text.
        query = func.plainto_tsquery(
            literal_column("'english'"), cast(bindparam("ticket_search", " ".join(words)), Text)
        )
        in_messages = select(_MESSAGES.c.ticket_id).where(_MESSAGES.c.search.op("@@")(query))
        in_summary = select(_TICKETS.c.id).where(_TICKETS.c.search.op("@@")(query))
    return or_(Ticket.id.in_(in_messages), Ticket.id.in_(in_summary))
