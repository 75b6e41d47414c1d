"""a partial index on the raw messages kept as they came (``raw_codec`` NULL), which a large
IMAP sync stores and packs right after (core/compact.py).

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
    have = {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("raw_inbound")}
    if "ix_raw_inbound_unpacked" in have:
        return  # a desk whose version row was set back by hand (as the upgrade tests do)
    op.create_index(
        "ix_raw_inbound_unpacked",
        "raw_inbound",
        ["id"],
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_raw_inbound_unpacked", table_name="raw_inbound")
