"""a partial index on the raw messages kept as they came (``raw_codec`` NULL), which a large
IMAP sync stores and packs right after (core/compact.py), and an index on ``message.raw_id``,
by which that packing finds each raw message's attachments (without it, a scan of every
message for each raw row).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

WHERE = sa.text("raw_codec IS NULL")


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    # Checked first, like the other migrations: a desk whose version row was set back by hand
    # (as the upgrade tests do) keeps what it has.
    raw = {i["name"] for i in inspector.get_indexes("raw_inbound")}
    if "ix_raw_inbound_unpacked" not in raw:
        op.create_index(
            "ix_raw_inbound_unpacked",
            "raw_inbound",
            ["id"],
            sqlite_where=WHERE,
            postgresql_where=WHERE,
        )
    if "ix_message_raw_id" not in {i["name"] for i in inspector.get_indexes("message")}:
        op.create_index("ix_message_raw_id", "message", ["raw_id"])


def downgrade() -> None:
    op.drop_index("ix_message_raw_id", table_name="message")
    op.drop_index("ix_raw_inbound_unpacked", table_name="raw_inbound")
