"""the field engineer's arrival time on a ticket (``ticket.arrival_at``), set from the console
and told to the customer (core/arrival.py).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("ticket")}
    if "arrival_at" not in have:
        op.add_column("ticket", sa.Column("arrival_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("ticket", "arrival_at")
