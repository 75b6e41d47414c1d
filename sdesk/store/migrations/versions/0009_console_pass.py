"""console second pass: drafts kept in the desk; the SLA clock paused while pending

``draft`` holds an agent's unsent reply or note per ticket (one row per agent and ticket; ``kind``
says which, so a note's draft never goes out as a reply), saved while
typing so it survives quit, crash and restart. ``ticket.pending_since`` and
``ticket.sla_paused_seconds`` stop the SLA clock while a ticket is pending: the time spent
pending is added to its due times when it leaves pending (ARCHITECTURE.md, "Pending and the
SLA clock").

Plain ALTER TABLE on ``ticket`` (no batch copy: a copied table would lose the FTS triggers);
SQLite 3.35+ drops the columns in place on downgrade. Idempotent like 0004 and 0007.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("pending_since", sa.DateTime(), True, None),
    ("sla_paused_seconds", sa.Integer(), False, "0"),
)


def _ticket_columns() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns("ticket")}


def upgrade() -> None:
    have = _ticket_columns()
    for name, type_, nullable, default in _COLUMNS:
        if name not in have:
            op.add_column(
                "ticket", sa.Column(name, type_, nullable=nullable, server_default=default)
            )
    if not sa.inspect(op.get_bind()).has_table("draft"):
        op.create_table(
            "draft",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("agent_id", sa.Integer(), nullable=False),
            sa.Column("ticket_id", sa.Integer(), nullable=False),
            sa.Column("text", sa.String(), nullable=False),
            sa.Column("kind", sa.String(), nullable=False, server_default="reply"),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
            sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("agent_id", "ticket_id", name="uq_draft_agent_ticket"),
        )
        op.create_index("ix_draft_ticket_id", "draft", ["ticket_id"], unique=False)


def downgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("draft"):
        op.drop_index("ix_draft_ticket_id", table_name="draft")
        op.drop_table("draft")
    have = _ticket_columns()
    for name, *_ in reversed(_COLUMNS):
        if name in have:
            op.drop_column("ticket", name)
