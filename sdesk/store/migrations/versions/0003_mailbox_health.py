"""mailbox health: per mailbox, connected since, last good poll, last error

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mailbox_health",
        sa.Column("mailbox", sa.String(), nullable=False),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("last_poll_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(), nullable=True),
        sa.Column("holder", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("mailbox"),
    )
    # The "acted through" cursors (\Seen / move applied) start where intake stands: what an
    # older sdesk stored it also flagged, barring a crash we can no longer tell apart.
    op.execute(
        "INSERT INTO channel_cursor (channel, account, folder, validity, position, updated_at) "
        "SELECT 'email.acted', account, folder, validity, position, updated_at "
        "FROM channel_cursor WHERE channel = 'email'"
    )


def downgrade() -> None:
    op.execute("DELETE FROM channel_cursor WHERE channel = 'email.acted'")
    op.drop_table("mailbox_health")
