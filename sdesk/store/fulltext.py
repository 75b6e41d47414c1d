"""Full-text search in each database's own engine: FTS5 on SQLite, GIN-indexed ``tsvector`` on
PostgreSQL (both made by migration 0001).

The rules are the same as far as the engines allow: every word the user typed must match, the
last one as a prefix (so results narrow while typing), and nothing the user types is query
syntax. Ranking is the caller's: the newest tickets first, on both. Where they differ: FTS5's
``unicode61 remove_diacritics 2`` tokenizer lets ``cafe`` find ``café``; PostgreSQL's ``simple``
configuration lower-cases but keeps accents, and it indexes the first ``SEARCH_PREFIX``
characters of a text.
"""

from __future__ import annotations

import re

from sqlalchemy import Integer, TextualSelect, column, text
from sqlalchemy.orm import Session

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 16
# Indexed by migration 0001; a table name here is never user input.
INDEXED = {"message": "text", "ticket": "subject"}
# PostgreSQL indexes the first this many characters of each (migration 0006: a tsvector holds
# at most 1 MiB); the query repeats the indexed expression so the planner uses the index.
SEARCH_PREFIX = 100_000


def words_of(user_query: str) -> list[str]:
    """The words a query is made of; punctuation and operators are only separators."""
    return _WORD.findall(user_query)[:MAX_WORDS]


def fts_query(user_query: str) -> str | None:
    """User words → an FTS5 query of quoted terms (prefix on the last), so no input is syntax."""
    words = words_of(user_query)
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def ts_query(user_query: str) -> str | None:
    """User words → a PostgreSQL ``to_tsquery`` text: ANDed lexemes, the last a prefix.

    ``\\w`` never matches a tsquery operator or quote, so each word stands for itself; the
    ``simple`` parser may still split one at an underscore, into words that must all match."""
    words = words_of(user_query)
    if not words:
        return None
    return " & ".join(words[:-1] + [f"{words[-1]}:*"])


def match_sql(dialect: str, table: str) -> tuple[str, str]:
    """SQL selecting the ids of ``table``'s rows that match ``:q``, and the name of that id."""
    if dialect == "postgresql":
        field = INDEXED[table]
        indexed = f"left({field}, {SEARCH_PREFIX})"
        where = f"to_tsvector('simple', {indexed}) @@ to_tsquery('simple', :q)"
        return f"SELECT id FROM {table} WHERE {where}", "id"
    return f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH :q", "rowid"


def query_for(session: Session, user_query: str) -> str | None:
    """The engine's query text for ``user_query``, None when it holds no word."""
    if session.get_bind().dialect.name == "postgresql":
        return ts_query(user_query)
    return fts_query(user_query)


def matching_ids(session: Session, table: str, user_query: str) -> list[int]:
    """Ids of ``table``'s rows that match every word, in id order: what the index finds."""
    q = query_for(session, user_query)
    if q is None:
        return []
    select_ids, key = match_sql(session.get_bind().dialect.name, table)
    sql = f"{select_ids} ORDER BY {key}"
    return list(session.execute(text(sql), {"q": q}).scalars())


def ticket_hits(session: Session, user_query: str, newest_messages: int) -> TextualSelect | None:
    """A statement yielding the ids of tickets whose subject, or one of the ``newest_messages``
    most recent matching messages, matches ``user_query``.

    Merged tickets forward to where their messages went: messages moved with the merge, and a
    merged ticket's subject hit is followed along merged_into_id to the ticket now open. One
    statement: the hits stay in the database rather than travel to Python and back as a list.
    """
    q = query_for(session, user_query)
    if q is None:
        return None
    dialect = session.get_bind().dialect.name
    # SQLite's planner prefers the primary key; the small (id, ticket_id) index reads a
    # message's ticket without its row (migration 0005).
    by_id = " INDEXED BY ix_message_id_ticket" if dialect == "sqlite" else ""
    tickets, _ = match_sql(dialect, "ticket")
    messages, key = match_sql(dialect, "message")
    sql = (
        f"WITH RECURSIVE hit(id) AS ({tickets}"
        " UNION SELECT t.merged_into_id FROM ticket t JOIN hit ON t.id = hit.id"
        " WHERE t.merged_into_id IS NOT NULL)"
        f" SELECT id FROM hit UNION SELECT ticket_id FROM message{by_id}"
        f" WHERE id IN ({messages} ORDER BY {key} DESC LIMIT :n)"
    )
    return text(sql).bindparams(q=q, n=newest_messages).columns(column("id", Integer))
