"""raw messages kept compressed: raw_inbound.raw_codec and raw_size

Each message's raw bytes were kept as they came (26 of 48 MB of a 5,000-mail desk) beside its
attachments in the blob store. New rows are deflated (``sdesk.store.rawcodec``) and say how in
``raw_codec``; ``raw_size`` keeps the original length for ``sdesk quarantine list``. Rows already
stored are not rewritten: a NULL codec reads them as they are. Idempotent like 0004: a desk
stamped back to 0006 upgrades again cleanly.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("raw_codec", sa.String()),
    ("raw_size", sa.Integer()),
)


def _existing() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns("raw_inbound")}


def upgrade() -> None:
    have = _existing()
    for name, type_ in _COLUMNS:
        if name not in have:
            op.add_column("raw_inbound", sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    # An older sdesk reads ``raw`` as the message itself: compressed rows are inflated first.
    bind = op.get_bind()
    if "raw_codec" in _existing():
        from sdesk.store.rawcodec import unpack

        rows = bind.execute(
            sa.text(
                "SELECT id, raw, raw_codec FROM raw_inbound "
                "WHERE raw_codec IS NOT NULL AND raw_codec != 'identity'"
            )
        ).fetchall()
        for row_id, stored, codec in rows:
            bind.execute(
                sa.text("UPDATE raw_inbound SET raw = :raw WHERE id = :id"),
                {"raw": unpack(stored, codec), "id": row_id},
            )
    have = _existing()
    for name, _ in reversed(_COLUMNS):
        if name in have:
            op.drop_column("raw_inbound", name)  # SQLite 3.35+ drops a column in place
