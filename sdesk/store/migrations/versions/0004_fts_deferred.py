"""full-text index written once per poller batch, not by a trigger per row

SQLite only. The FTS5 insert triggers fire per row; each firing runs in a statement savepoint,
which makes FTS5 flush its pending terms as a new index segment, so the full-text index was the
biggest single cost of storing mail. The insert triggers now stand aside while the marker table
``sdesk_fts_deferred`` holds a row: a batch writer (``intake_many``) inserts the marker, stores
its messages, indexes them with one INSERT ... SELECT and deletes the marker, all in its one
transaction, so no other connection ever sees the marker or an unindexed message.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXED = (("message", "text"), ("ticket", "subject"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL indexes with GIN expression indexes, no triggers
    # Idempotent, like the trigger swap below: a desk stamped back to an older revision by hand
    # (tests do, to replay an upgrade) upgrades again cleanly.
    op.execute("CREATE TABLE IF NOT EXISTS sdesk_fts_deferred (id INTEGER PRIMARY KEY)")
    for table, column in INDEXED:
        _insert_trigger(table, column, "WHEN NOT EXISTS (SELECT 1 FROM sdesk_fts_deferred) ")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, column in INDEXED:
        _insert_trigger(table, column, "")
    op.execute("DROP TABLE IF EXISTS sdesk_fts_deferred")


def _insert_trigger(table: str, column: str, when: str) -> None:
    fts = f"{table}_fts"
    op.execute(f"DROP TRIGGER IF EXISTS {fts}_ai")
    op.execute(
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} {when}BEGIN "
        f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END"
    )
