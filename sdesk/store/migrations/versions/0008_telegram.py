"""telegram: every update raw once per bot (telegram_update), files still to fetch
(telegram_file), the /new dialogue's state per chat (telegram_dialogue)

Idempotent like 0004 and 0007: a desk stamped back to an older revision upgrades again cleanly
(tables already there are kept as they are).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _existing() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def upgrade() -> None:
    have = _existing()
    if "telegram_update" not in have:
        _update_table()
    if "telegram_file" not in have:
        _file_table()
    if "telegram_dialogue" not in have:
        _dialogue_table()


def _update_table() -> None:
    op.create_table(
        "telegram_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("chat_id", sa.String(), nullable=True),
        sa.Column("media_group", sa.String(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bot_id", "update_id", name="uq_telegram_update"),
    )
    op.create_index("ix_telegram_update_group", "telegram_update", ["bot_id", "media_group"])


def _file_table() -> None:
    op.create_table(
        "telegram_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.String(), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("content_type", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_telegram_file_message_id", "telegram_file", ["message_id"])
    op.create_index("ix_telegram_file_state", "telegram_file", ["state"])


def _dialogue_table() -> None:
    op.create_table(
        "telegram_dialogue",
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "chat_id"),
    )


def downgrade() -> None:
    op.drop_table("telegram_dialogue")
    op.drop_index("ix_telegram_file_state", table_name="telegram_file")
    op.drop_index("ix_telegram_file_message_id", table_name="telegram_file")
    op.drop_table("telegram_file")
    op.drop_index("ix_telegram_update_group", table_name="telegram_update")
    op.drop_table("telegram_update")
