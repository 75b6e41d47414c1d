"""signin: one-time sign-in links by email (signin_link) and the web cabinet's sessions
(web_session); codes and session tokens are stored only as hashes

Idempotent like 0004 and 0007: a desk stamped back to an older revision upgrades again cleanly
(tables already there are kept as they are).

Revision ID: 0011
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def _existing() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def upgrade() -> None:
    have = _existing()
    if "signin_link" not in have:
        op.create_table(
            "signin_link",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("code_hash", sa.String(), nullable=True),
            sa.Column("customer_id", sa.Integer(), nullable=True),
            sa.Column("purpose", sa.String(), nullable=False),
            sa.Column("address_hash", sa.String(), nullable=False),
            sa.Column("client_hash", sa.String(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("expires_at", sa.DateTime(), nullable=False),
            sa.Column("used_at", sa.DateTime(), nullable=True),
            sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("code_hash"),
        )
        op.create_index("ix_signin_link_address_hash", "signin_link", ["address_hash"])
        op.create_index("ix_signin_link_client_hash", "signin_link", ["client_hash"])
        op.create_index("ix_signin_link_created_at", "signin_link", ["created_at"])
    if "web_session" not in have:
        op.create_table(
            "web_session",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("token_hash", sa.String(), nullable=False),
            sa.Column("customer_id", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("expires_at", sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("token_hash"),
        )
        op.create_index("ix_web_session_customer_id", "web_session", ["customer_id"])
        op.create_index("ix_web_session_expires_at", "web_session", ["expires_at"])


def downgrade() -> None:
    have = _existing()
    if "web_session" in have:
        op.drop_index("ix_web_session_expires_at", table_name="web_session")
        op.drop_index("ix_web_session_customer_id", table_name="web_session")
        op.drop_table("web_session")
    if "signin_link" in have:
        op.drop_index("ix_signin_link_created_at", table_name="signin_link")
        op.drop_index("ix_signin_link_client_hash", table_name="signin_link")
        op.drop_index("ix_signin_link_address_hash", table_name="signin_link")
        op.drop_table("signin_link")
