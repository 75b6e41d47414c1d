"""agent alerts: alerts with their frozen escalation, steps taken, notices; the scheduler's jobs

``alert`` (``open_key`` unique: one active alert per dedup key), ``alert_step`` (unique per
alert, step and round: a step is taken once, whatever the scheduler's restarts) and
``alert_notice`` (who was told how and when, or why not). ``apscheduler_jobs`` is
APScheduler's SQLAlchemyJobStore table, made here so the schema has one owner (the job store's
own create is a no-op then). See ARCHITECTURE.md, "Alerts and the scheduler".

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

JOBS = "apscheduler_jobs"


def upgrade() -> None:
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if "alert" not in have:
        op.create_table(
            "alert",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("key", sa.String(), nullable=False),
            sa.Column("open_key", sa.String(), nullable=True),
            sa.Column("rule", sa.String(), nullable=False),
            sa.Column("event", sa.String(), nullable=False),
            sa.Column("event_id", sa.Integer(), nullable=True),
            sa.Column("ticket_id", sa.Integer(), nullable=True),
            sa.Column("tier", sa.String(), nullable=False),
            sa.Column("title", sa.String(), nullable=False),
            sa.Column("state", sa.String(), nullable=False),
            sa.Column("count", sa.Integer(), nullable=False),
            sa.Column("plan", sa.String(), nullable=False),
            sa.Column("step", sa.Integer(), nullable=False),
            sa.Column("repeat", sa.Integer(), nullable=False),
            sa.Column("next_at", sa.DateTime(), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("last_seen_at", sa.DateTime(), nullable=False),
            sa.Column("acked_at", sa.DateTime(), nullable=True),
            sa.Column("acked_by", sa.String(), nullable=True),
            sa.Column("acked_how", sa.String(), nullable=True),
            sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("open_key", name="uq_alert_open_key"),
        )
        op.create_index("ix_alert_key", "alert", ["key"])
        op.create_index("ix_alert_ticket_id", "alert", ["ticket_id"])
        op.create_index("ix_alert_state_next", "alert", ["state", "next_at"])
    if "alert_step" not in have:
        op.create_table(
            "alert_step",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("alert_id", sa.Integer(), nullable=False),
            sa.Column("step", sa.Integer(), nullable=False),
            sa.Column("repeat", sa.Integer(), nullable=False),
            sa.Column("ran_at", sa.DateTime(), nullable=False),
            sa.Column("due_at", sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(["alert_id"], ["alert.id"]),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("alert_id", "step", "repeat", name="uq_alert_step"),
        )
    if "alert_notice" not in have:
        op.create_table(
            "alert_notice",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("alert_id", sa.Integer(), nullable=False),
            sa.Column("step", sa.Integer(), nullable=False),
            sa.Column("repeat", sa.Integer(), nullable=False),
            sa.Column("agent", sa.String(), nullable=False),
            sa.Column("medium", sa.String(), nullable=False),
            sa.Column("address", sa.String(), nullable=False),
            sa.Column("state", sa.String(), nullable=False),
            sa.Column("reason", sa.String(), nullable=True),
            sa.Column("cost", sa.Float(), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("ref", sa.String(), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("sent_at", sa.DateTime(), nullable=True),
            sa.ForeignKeyConstraint(["alert_id"], ["alert.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_alert_notice_alert", "alert_notice", ["alert_id"])
        op.create_index("ix_alert_notice_agent", "alert_notice", ["agent", "medium", "created_at"])
        op.create_index("ix_alert_notice_state", "alert_notice", ["state", "medium"])
    if JOBS not in have:  # the columns APScheduler 3's SQLAlchemyJobStore declares
        op.create_table(
            JOBS,
            sa.Column("id", sa.Unicode(191), nullable=False),
            sa.Column("next_run_time", sa.Float(25), nullable=True),
            sa.Column("job_state", sa.LargeBinary(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(f"ix_{JOBS}_next_run_time", JOBS, ["next_run_time"])


def downgrade() -> None:
    op.drop_table(JOBS)
    op.drop_table("alert_notice")
    op.drop_table("alert_step")
    op.drop_table("alert")
