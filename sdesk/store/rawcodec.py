"""How a message's raw bytes are kept in ``raw_inbound``: compressed, exactly recoverable.

The raw bytes of every message are kept (ARCHITECTURE.md, rule 3: quarantine, never drop; a
stored message can be parsed again after a fix), and they were the bulk of a desk: 26 of 48 MB
for 5,000 mails, beside their attachments in the blob store. Each row is now compressed on its
own (zstd, ``zstandard``, with a raw-content dictionary of common mail text,
``sdesk.store.maildict``) and names its codec in ``raw_codec``:

- ``NULL`` (rows written before migration 0007, or by a large sync and not yet packed) or
  ``identity``: the bytes as they came (``identity`` is written when compression would not
  make a message smaller);
- ``zstd-mail1``: a zstd frame made with the ``MAIL1`` dictionary;
- ``zstd-mail1+blobs``: the same, of the message with its base64 attachment bodies cut out, and
  before it where each went and the sha256 of the blob (the decoded attachment, kept in the blob
  store anyway) whose base64 gives those bytes back. Only a body that re-encodes to exactly the
  bytes it replaces is cut (checked when stored); anything else stays in the stream. The blob
  is written in the same transaction (``store_attachments``; ``Store.write`` flushes the blob
  writes before its commit), and must outlive the row: nothing deletes blobs today, and a
  future purge must keep the ones a raw row names (or put the bodies back in the row first);
- ``zlib-mail1`` and ``zlib-mail1+blobs``: the same two layouts with a zlib stream (the same
  dictionary as zlib's preset dictionary), written by earlier versions: read, never written.
  zlib cost four times zstd's CPU for the same size, and a large IMAP sync is CPU-bound.

``raw_size`` holds the length of the original bytes (NULL on old rows: ``length(raw)`` then).
``sha256`` is always the digest of the original bytes, so idempotency keys (rule 2) do not
depend on the codec, and ``unpack`` is checked against it where exactness matters.

Measured on ``bench/mailgen.py`` mail (2,000 messages, 11.1 MB raw): compression alone keeps
52% of the raw size (zlib's level 6 kept 50%); with attachment bodies shared with the blob store,
about 29%. Packing costs ~45 µs a message, unpacking ~20 µs.

A large IMAP sync stores its rows as they came (``raw_codec`` NULL, ``Inbound.pack_later``) and
packs them right after (``core/compact.py``): packing is ~10% of a first sync's CPU on a 2-core
host, and the operator waits for the mail, not for its compression. Packing is deterministic,
so a row packed later holds the same bytes as one packed in its transaction.
"""

from __future__ import annotations

import binascii
import hashlib
import struct
import threading
import zlib
from collections.abc import Callable, Sequence

import zstandard

from sdesk.store.maildict import MAIL1

IDENTITY = "identity"
ZSTD_MAIL1 = "zstd-mail1"
BLOBS = "zstd-mail1+blobs"
# Written before zstd (read, never written): the same layouts with a zlib stream.
ZLIB_MAIL1 = "zlib-mail1"
ZLIB_BLOBS = "zlib-mail1+blobs"
SHARED_FROM = 512  # attachment bodies shorter than this stay in the stream (a reference is 46 B)
LINE = 76  # base64 characters a line: RFC 2045's limit, which nearly every mailer writes
_MAGIC = b"sdr1"
_COUNT = struct.Struct(">H")
# Where a cut body began in the original, its length, its line length, CRLF (1) or LF (0)
# line breaks, and the sha256 of the decoded bytes.
_REF = struct.Struct(">QIBB32s")
# zstd with MAIL1 as a raw-content dictionary keeps what zlib's level 6 kept (about half of
# mailgen mail, deflate alone) at a quarter of its CPU: ~45 µs a message against ~190 µs (2,000
# mailgen mails, a loaded 2-core host); level 3 gains 1% of size for 20% more time.
LEVEL = 1
_DICT = zstandard.ZstdCompressionDict(MAIL1, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
_DICT.precompute_compress(level=LEVEL)
_local = threading.local()  # a (de)compressor is not safe for two threads at once: one each


class RawUnreadable(ValueError):
    """Stored raw bytes that cannot be turned back into the original message."""


Blobs = Callable[[str], bytes | None]  # a blob's bytes by sha256 (``BlobStore.get``)


def references(stored: bytes | memoryview, codec: str | None) -> list[str]:
    """The sha256 of every blob a packed row refers to (none but in a ``...+blobs`` row);
    ``RawUnreadable`` for a codec this sdesk does not know."""
    if codec is None or codec in (IDENTITY, ZSTD_MAIL1, ZLIB_MAIL1):
        return []
    if codec not in (BLOBS, ZLIB_BLOBS):
        raise RawUnreadable(f"raw bytes stored with codec {codec!r}, unknown to this sdesk")
    stored = memoryview(stored)
    if bytes(stored[: len(_MAGIC)]) != _MAGIC or len(stored) < len(_MAGIC) + _COUNT.size:
        raise RawUnreadable("stored raw bytes damaged: no attachment references")
    (count,) = _COUNT.unpack_from(stored, len(_MAGIC))
    at = len(_MAGIC) + _COUNT.size
    if len(stored) < at + count * _REF.size:
        raise RawUnreadable("stored raw bytes damaged: attachment references cut short")
    return [_REF.unpack_from(stored, at + i * _REF.size)[4].hex() for i in range(count)]


def pack(raw: bytes, shared: Sequence[tuple[bytes, str]] = ()) -> tuple[bytes, str]:
    """The bytes to store for ``raw``, and the codec that gives ``raw`` back.

    ``shared``: (decoded bytes, sha256) of the message's attachments that the blob store keeps
    in the same transaction; their base64 bodies are then stored as references.
    """
    refs = _find_bodies(raw, shared)
    if refs:
        rest = _cut(raw, refs)
        head = _MAGIC + _COUNT.pack(len(refs))
        head += b"".join(_REF.pack(o, n, ln, crlf, bytes.fromhex(d)) for o, n, ln, crlf, d in refs)
        return head + _compress(rest), BLOBS
    packed = _compress(raw)
    if len(packed) >= len(raw):
        return bytes(raw), IDENTITY
    return packed, ZSTD_MAIL1


def unpack(stored: bytes | memoryview, codec: str | None, blobs: Blobs | None = None) -> bytes:
    """The original bytes of a ``raw_inbound`` row from its ``raw`` and ``raw_codec``;
    ``blobs`` reads the attachment bodies a ``...+blobs`` row refers to."""
    if codec is None or codec == IDENTITY:
        return bytes(stored)
    if codec == ZSTD_MAIL1:
        return _decompress(stored)
    if codec == ZLIB_MAIL1:
        return _inflate(stored)
    if codec not in (BLOBS, ZLIB_BLOBS):
        raise RawUnreadable(f"raw bytes stored with codec {codec!r}, unknown to this sdesk")
    stored = bytes(stored)
    if not stored.startswith(_MAGIC) or len(stored) < len(_MAGIC) + _COUNT.size:
        raise RawUnreadable("stored raw bytes damaged: no attachment references")
    (count,) = _COUNT.unpack_from(stored, len(_MAGIC))
    at = len(_MAGIC) + _COUNT.size
    refs = [_REF.unpack_from(stored, at + i * _REF.size) for i in range(count)]
    stream = stored[at + count * _REF.size :]
    rest = _decompress(stream) if codec == BLOBS else _inflate(stream)
    if blobs is None:
        raise RawUnreadable("the raw message refers to attachment files; none given to read")
    bodies = []
    for _, length, line, crlf, digest in refs:
        data = blobs(digest.hex())
        if data is None:
            raise RawUnreadable(f"attachment file {digest.hex()} of the raw message is missing")
        body = _base64(data, line, crlf)
        if len(body) != length:
            raise RawUnreadable(f"attachment file {digest.hex()} does not match the raw message")
        bodies.append(body)
    return _join(rest, [r[0] for r in refs], bodies)


def unpack_checked(
    stored: bytes | memoryview, codec: str | None, sha256: str, blobs: Blobs | None = None
) -> bytes:
    """``unpack``, refusing bytes whose digest is not the row's ``sha256``."""
    raw = unpack(stored, codec, blobs)
    if hashlib.sha256(raw).hexdigest() != sha256:
        raise RawUnreadable("stored raw bytes damaged: they no longer match their sha256")
    return raw


def _compress(data: bytes) -> bytes:
    compressor = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstandard.ZstdCompressor(
            level=LEVEL, dict_data=_DICT, write_checksum=False, write_dict_id=False
        )
    return compressor.compress(data)


def _decompress(stored: bytes | memoryview) -> bytes:
    decompressor = getattr(_local, "decompressor", None)
    if decompressor is None:
        decompressor = _local.decompressor = zstandard.ZstdDecompressor(dict_data=_DICT)
    try:
        # The frame names its size (``write_content_size``, the default): no cap to guess.
        return decompressor.decompress(bytes(stored))
    except zstandard.ZstdError as exc:
        raise RawUnreadable(f"stored raw bytes damaged: {exc}") from exc


def _inflate(stored: bytes | memoryview) -> bytes:
    inflate = zlib.decompressobj(15, MAIL1)
    try:
        raw = inflate.decompress(stored) + inflate.flush()
    except zlib.error as exc:
        raise RawUnreadable(f"stored raw bytes damaged: {exc}") from exc
    if not inflate.eof:
        raise RawUnreadable("stored raw bytes damaged: the compressed stream is cut short")
    return raw


def _base64(data: bytes, line: int, crlf: int) -> bytes:
    """``data`` as a MIME base64 body: ``line`` characters a line, no break after the last."""
    step = line // 4 * 3
    lines = [
        binascii.b2a_base64(data[i : i + step], newline=False) for i in range(0, len(data), step)
    ]
    return (b"\r\n" if crlf else b"\n").join(lines)


def _find_bodies(
    raw: bytes, shared: Sequence[tuple[bytes, str]]
) -> list[tuple[int, int, int, int, str]]:
    """Where in ``raw`` each shared attachment's base64 body is, exactly as re-encoded;
    bodies not found (another line length, a stray blank) simply stay in the stream."""
    if not shared:
        return []
    first = raw.find(b"\n")
    crlf = 1 if first > 0 and raw[first - 1 : first] == b"\r" else 0
    found: list[tuple[int, int, int, int, str]] = []
    for data, digest in shared:
        if len(data) < SHARED_FROM:
            continue
        body = _base64(data, LINE, crlf)
        at = raw.find(body)
        # A body is followed by a line break or the end: a longer run of base64 is another one.
        end = at + len(body)
        if at < 0 or raw[end : end + 1] not in (b"", b"\r", b"\n"):
            continue
        if any(at < o + n and o < end for o, n, *_ in found):
            continue  # the same bytes twice: the first copy is shared, the other stays
        found.append((at, len(body), LINE, crlf, digest))
    found.sort()
    return found


def _cut(raw: bytes, refs: list[tuple[int, int, int, int, str]]) -> bytes:
    pieces: list[bytes] = []
    pos = 0
    for offset, length, *_ in refs:
        pieces.append(raw[pos:offset])
        pos = offset + length
    pieces.append(raw[pos:])
    return b"".join(pieces)


def _join(rest: bytes, offsets: list[int], bodies: list[bytes]) -> bytes:
    """The original from the stream without the bodies and the bodies at their offsets."""
    pieces: list[bytes] = []
    pos = done = 0
    for offset, body in zip(offsets, bodies, strict=True):
        take = offset - done
        if take < 0 or pos + take > len(rest):
            raise RawUnreadable("stored raw bytes damaged: attachment references out of order")
        pieces += (rest[pos : pos + take], body)
        pos, done = pos + take, offset + len(body)
    pieces.append(rest[pos:])
    return b"".join(pieces)
