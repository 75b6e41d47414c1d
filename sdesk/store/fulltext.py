"""Full-text search in each database's own engine: FTS5 on SQLite, GIN-indexed ``tsvector`` on
PostgreSQL (both made by migration 0001).

The rules are the same as far as the engines allow: every word the user typed must match, the
last one as a prefix (so results narrow while typing), and nothing the user types is query
syntax. Where they differ: FTS5's ``unicode61 remove_diacritics 2`` tokenizer lets ``cafe``
find ``café``; PostgreSQL's ``simple`` configuration lower-cases but keeps accents, and it
indexes the first ``SEARCH_PREFIX`` characters of a text; its parser also keeps an email
address as one word and reads ``NW-480140`` as ``nw`` and ``-480140``, so such text is found
there by the whole address, and an account id by its contact (below).

Search (``store/inbox.search``) also finds tickets by their customer (``store/contacts.py``):
the whole query as a contact (an email address, a phone number in any common format, a Telegram
id, an account id such as ``NW-480140`` in any letter case), or as the start of
a word of the customer's name (``lund`` finds Bo Lund).
Ranking, the same on both engines: tickets of a customer whose contact the query names exactly
come first; then every other hit (subject, message text, customer name) — each group newest
first (last message, then id). Each result carries a snippet, plain text on one line with no
markup: the matched contact or name, else the newest matching message around its first
matching word (``snippet``), else the subject.
"""

from __future__ import annotations

import re

from sqlalchemy import Integer, TextualSelect, bindparam, column, text
from sqlalchemy.orm import Session

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 16
SNIPPET_CHARS = 90  # about one line of the search list
SNIPPET_SOURCE = 20_000  # characters of a message read for its snippet (a match further on
# shows the message's start)
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


def snippet_sources(
    session: Session, user_query: str, ticket_ids: list[int], newest_messages: int
) -> dict[int, str]:
    """For each of ``ticket_ids`` with a matching message among the ``newest_messages`` most
    recent matches (the ones search looked at): the start of its newest one's text."""
    q = query_for(session, user_query)
    if q is None or not ticket_ids:
        return {}
    messages, key = match_sql(session.get_bind().dialect.name, "message")
    newest = text(
        "SELECT ticket_id, max(id) FROM message WHERE ticket_id IN :tickets"
        f" AND id IN ({messages} ORDER BY {key} DESC LIMIT :n) GROUP BY ticket_id"
    ).bindparams(bindparam("tickets", expanding=True))
    found = {
        ticket: message
        for ticket, message in session.execute(
            newest, {"tickets": ticket_ids, "q": q, "n": newest_messages}
        )
    }
    if not found:
        return {}
    texts = text(
        f"SELECT id, substr(text, 1, {SNIPPET_SOURCE}) FROM message WHERE id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    by_id = {i: t for i, t in session.execute(texts, {"ids": list(found.values())})}
    return {ticket: by_id.get(message, "") for ticket, message in found.items()}


def snippet(text: str, user_query: str, width: int = SNIPPET_CHARS) -> str:
    """``width`` characters of ``text`` on one line around the first word of the query found in
    it (any case; the last word as a prefix, as the search matched it), ``…`` where cut.

    Only a window around the match is flattened: a search shows up to 200 snippets and the
    texts can be long."""
    words = words_of(user_query)
    found = None
    if words:
        pattern = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        found = re.search(pattern, text, re.IGNORECASE)
    at = found.start() if found else 0
    low, high = max(0, at - 2 * width), at + 3 * width
    flat = " ".join(text[low:high].split())
    if found is not None:  # where it is once the spaces are collapsed
        found = re.search(pattern, flat, re.IGNORECASE)
    start = 0 if found is None else max(0, found.start() - width // 3)
    if start:
        space = flat.rfind(" ", 0, start + 1)  # begin on a word
        start = space + 1 if space >= 0 and found and space < found.start() else start
    piece = flat[start : start + width]
    if start + width < len(flat) or (high < len(text) and text[high:].strip()):
        cut = piece.rfind(" ")
        piece = (piece[:cut] if cut > width // 2 else piece).rstrip() + "…"
    return ("…" if start or (low and flat) else "") + piece
