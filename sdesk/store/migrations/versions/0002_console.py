"""console: inbox paging index, presence, satisfaction rating

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_last_message", "ticket", ["last_message_at", "id"])
    # Plain ALTER TABLE (no batch copy): a copied table would lose the FTS triggers.
    op.add_column("ticket", sa.Column("rating", sa.Integer(), nullable=True))
    op.create_table(
        "presence",
        sa.Column("agent", sa.String(), nullable=False),
        sa.Column("ticket_number", sa.Integer(), nullable=False),
        sa.Column("activity", sa.String(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("agent"),
    )
    op.create_index("ix_presence_ticket_number", "presence", ["ticket_number"])


def downgrade() -> None:
    op.drop_index("ix_presence_ticket_number", table_name="presence")
    op.drop_table("presence")
    op.drop_column("ticket", "rating")
    op.drop_index("ix_ticket_last_message", table_name="ticket")
