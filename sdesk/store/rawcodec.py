"""How a message's raw bytes are kept in ``raw_inbound``: compressed, exactly recoverable.

The raw bytes of every message are kept (ARCHITECTURE.md, rule 3: quarantine, never drop; a
stored message can be parsed again after a fix), and they were the bulk of a desk: 26 of 48 MB
for 5,000 mails, beside their attachments in the blob store. Each row is now deflated on its
own (stdlib ``zlib``, a preset dictionary of common mail text, ``sdesk.store.maildict``) and
names its codec in ``raw_codec``:

- ``NULL`` (rows written before migration 0007) or ``identity``: the bytes as they came
  (``identity`` is also written when deflate would not make a message smaller);
- ``zlib-mail1``: a zlib stream made with the ``MAIL1`` dictionary.

``raw_size`` holds the length of the original bytes (NULL on old rows: ``length(raw)`` then).
``sha256`` is always the digest of the original bytes, so idempotency keys (rule 2) do not
depend on the codec, and ``unpack`` is checked against it where exactness matters.

Measured on ``bench/mailgen.py`` mail (5,000 messages, 26.3 MB raw): stored in 48% of the raw
size (text-only mail 38%; base64 attachments, already compressed data, shrink only to ~75%),
at ~130 µs a message to pack and ~30 µs to unpack.
"""

from __future__ import annotations

import hashlib
import zlib

from sdesk.store.maildict import MAIL1

IDENTITY = "identity"
ZLIB_MAIL1 = "zlib-mail1"
# zlib's default level: 0.484 of the raw size at ~130 µs a message; level 1 0.503 at ~90 µs.
LEVEL = 6


class RawUnreadable(ValueError):
    """Stored raw bytes that cannot be turned back into the original message."""


def pack(raw: bytes) -> tuple[bytes, str]:
    """The bytes to store for ``raw``, and the codec that gives ``raw`` back."""
    deflate = zlib.compressobj(LEVEL, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, MAIL1)
    packed = deflate.compress(raw) + deflate.flush()
    if len(packed) >= len(raw):
        return bytes(raw), IDENTITY
    return packed, ZLIB_MAIL1


def unpack(stored: bytes | memoryview, codec: str | None) -> bytes:
    """The original bytes of a ``raw_inbound`` row from its ``raw`` and ``raw_codec``."""
    if codec is None or codec == IDENTITY:
        return bytes(stored)
    if codec != ZLIB_MAIL1:
        raise RawUnreadable(f"raw bytes stored with codec {codec!r}, unknown to this sdesk")
    inflate = zlib.decompressobj(15, MAIL1)
    try:
        raw = inflate.decompress(stored) + inflate.flush()
    except zlib.error as exc:
        raise RawUnreadable(f"stored raw bytes damaged: {exc}") from exc
    if not inflate.eof:
        raise RawUnreadable("stored raw bytes damaged: the compressed stream is cut short")
    return raw


def unpack_checked(stored: bytes | memoryview, codec: str | None, sha256: str) -> bytes:
    """``unpack``, refusing bytes whose digest is not the row's ``sha256``."""
    raw = unpack(stored, codec)
    if hashlib.sha256(raw).hexdigest() != sha256:
        raise RawUnreadable("stored raw bytes damaged: they no longer match their sha256")
    return raw
