"""outbox: how far a reply sent in parts got

A long Telegram reply goes out as several messages (and its files after them). ``parts_sent``
counts the parts Telegram took and ``sent_ref`` names the last one, written after each part, so
a send cut short by a crash or a restart goes on from the next part instead of sending the
customer the first ones again (ARCHITECTURE.md, Telegram).

Plain ALTER TABLE (like 0009); idempotent.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("parts_sent", sa.Integer(), False, "0"),
    ("sent_ref", sa.String(), True, None),
)


def _outbox_columns() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns("outbox")}


def upgrade() -> None:
    have = _outbox_columns()
    for name, type_, nullable, default in _COLUMNS:
        if name not in have:
            op.add_column(
                "outbox", sa.Column(name, type_, nullable=nullable, server_default=default)
            )


def downgrade() -> None:
    have = _outbox_columns()
    for name, *_ in reversed(_COLUMNS):
        if name in have:
            op.drop_column("outbox", name)
