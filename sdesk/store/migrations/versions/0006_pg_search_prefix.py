"""PostgreSQL: index the first 100,000 characters of a text for search

A ``tsvector`` holds at most 1 MiB, and an expression index computes one for every row it
indexes: a message of a million short words (the parser keeps texts up to a million characters)
was refused at INSERT with "string is too long for tsvector", so the message could not be
stored at all. Search now indexes (and ``sdesk.store.fulltext`` queries) the first
``SEARCH_PREFIX`` characters, which fit in any case. SQLite's FTS5 has no such limit: a no-op
there.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SEARCH_PREFIX = 100_000  # sdesk.store.fulltext.SEARCH_PREFIX: the query must say the same
_INDEXES = (
    ("ix_message_text_fts", "message", "text"),
    ("ix_ticket_subject_fts", "ticket", "subject"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, column in _INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(
            f"CREATE INDEX {name} ON {table} "
            f"USING gin (to_tsvector('simple', left({column}, {SEARCH_PREFIX})))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, column in _INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(f"CREATE INDEX {name} ON {table} USING gin (to_tsvector('simple', {column}))")
