"""REST API: bearer tokens (stored hashed) and the answers to POSTs made with an Idempotency-Key

``api_token`` holds the sha256 of each token with whose it is (a customer, an agent or an
integration) and when it was revoked. ``api_request`` keeps, per token and Idempotency-Key,
the request's hash and its first answer, so a retry gets the same answer from any process and
after a restart. Idempotent like 0009.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("api_token"):
        op.create_table(
            "api_token",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(), nullable=False),
            sa.Column("kind", sa.String(), nullable=False),
            sa.Column("token_hash", sa.String(), nullable=False),
            sa.Column("customer_id", sa.Integer(), nullable=True),
            sa.Column("agent_id", sa.Integer(), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("revoked_at", sa.DateTime(), nullable=True),
            sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
            sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("name"),
            sa.UniqueConstraint("token_hash"),
        )
    if not inspector.has_table("api_request"):
        op.create_table(
            "api_request",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("token_id", sa.Integer(), nullable=False),
            sa.Column("key", sa.String(), nullable=False),
            sa.Column("request_hash", sa.String(), nullable=False),
            sa.Column("state", sa.String(), nullable=False),
            sa.Column("status_code", sa.Integer(), nullable=True),
            sa.Column("response", sa.LargeBinary(), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(["token_id"], ["api_token.id"]),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("token_id", "key", name="uq_api_request_key"),
        )


def downgrade() -> None:
    op.drop_table("api_request")
    op.drop_table("api_token")
