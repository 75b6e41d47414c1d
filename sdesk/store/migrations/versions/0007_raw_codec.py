"""raw messages kept compressed: raw_inbound.raw_codec and raw_size

Each message's raw bytes were kept as they came (26 of 48 MB of a 5,000-mail desk) beside its
attachments in the blob store. New rows are deflated, their attachment bodies kept once, as
blobs (``sdesk.store.rawcodec``), and say how in ``raw_codec``; ``raw_size`` keeps the original
length for ``sdesk quarantine list``. Rows already stored are not rewritten: a NULL codec reads
them as they are. Idempotent like 0004: a desk stamped back to 0006 upgrades again cleanly. The
downgrade puts every row's exact bytes back, reading shared bodies from the blob store.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import op

from sdesk.store.blobs import BlobStore
from sdesk.store.rawcodec import Blobs, unpack

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
    # An older sdesk reads ``raw`` as the message itself: every row gets its bytes back first.
    bind = op.get_bind()
    if "raw_codec" in _existing():
        rows = bind.execute(
            sa.text(
                "SELECT id, raw, raw_codec FROM raw_inbound "
                "WHERE raw_codec IS NOT NULL AND raw_codec != 'identity'"
            )
        ).fetchall()
        blobs = _blob_reader(bind) if rows else None
        for row_id, stored, codec in rows:
            bind.execute(
                sa.text("UPDATE raw_inbound SET raw = :raw WHERE id = :id"),
                {"raw": unpack(stored, codec, blobs), "id": row_id},
            )
    have = _existing()
    for name, _ in reversed(_COLUMNS):
        if name in have:
            op.drop_column("raw_inbound", name)  # SQLite 3.35+ drops a column in place


def _blob_reader(bind: sa.Connection) -> Blobs:
    """The blob store of rows that share attachment bodies with it: the Alembic config's
    ``blobs`` attribute (a folder), else the desk's default (``<db>.files`` for SQLite)."""
    from sdesk.store.engine import _attachments_dir

    config = op.get_context().config
    folder = config.attributes.get("blobs") if config is not None else None
    if folder is None:
        folder = _attachments_dir(bind.engine.url.render_as_string(hide_password=False))
    return BlobStore(Path(folder)).get
