"""telephony: calls through Twilio (phone_call), one under way per ticket at a time

Idempotent like 0008: a desk stamped back to an older revision upgrades again cleanly.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "phone_call" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "phone_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("customer_number", sa.String(), nullable=False),
        sa.Column("agent_number", sa.String(), nullable=True),
        sa.Column("sid", sa.String(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("active_ticket", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("hangup_at", sa.DateTime(), nullable=True),
        sa.Column("recording_sid", sa.String(), nullable=True),
        sa.Column("recording_url", sa.String(), nullable=True),
        sa.Column("recording_duration", sa.Integer(), nullable=True),
        sa.Column("transcription", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
        sa.UniqueConstraint("sid"),
        sa.UniqueConstraint("active_ticket"),
        sa.UniqueConstraint("recording_sid"),
    )
    op.create_index("ix_phone_call_ticket_id", "phone_call", ["ticket_id"])
    op.create_index("ix_phone_call_agent_id", "phone_call", ["agent_id"])
    op.create_index("ix_phone_call_created_at", "phone_call", ["created_at"])


def downgrade() -> None:
    op.drop_table("phone_call")
