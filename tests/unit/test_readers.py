"""The mbox reader against messages we know: every one back, byte for byte, at any chunk size."""

from __future__ import annotations

import io
import random

import pytest

from sdesk.channels.files.readers import _iter_mbox
from tests.corpus.bulk import bulk_messages

SEP = b"From someone@example.org Thu Oct  1 08:00:00 2026\n"


def mbox_of(messages: list[bytes], newline: bytes = b"\n") -> bytes:
    out = []
    for raw in messages:
        body = b"".join(
            b">" + ln if ln.lstrip(b">").startswith(b"From ") else ln
            for ln in raw.splitlines(keepends=True)
        )
        if not body.endswith(newline):
            body += newline  # as mailbox writers do: the blank separator line needs it
        out.append(SEP.replace(b"\n", newline) + body + newline)
    return b"".join(out)


def read(data: bytes, chunk: int, cap: int = 10_000_000) -> list[bytes]:
    return [item.raw for item in _iter_mbox(io.BytesIO(data), "x", cap, chunk=chunk)]


TRICKY = [
    b"Subject: a\n\nFrom the start of a line\n>From already quoted\nend\n",
    b"Subject: b\n\nno final newline",
    b"Subject: c\n\n\n\nblank lines\n\n",
    b"Subject: d\n\nFrom\nFromage is cheese\n",
]


@pytest.mark.parametrize("chunk", [7, 64, 1000, 1 << 20])
def test_messages_come_back_exactly(chunk: int) -> None:
    messages = [*list(bulk_messages(40)), *TRICKY]
    got = read(mbox_of(messages), chunk)
    assert got == [m if m.endswith(b"\n") else m + b"\n" for m in messages]


def test_crlf_mbox() -> None:
    msgs = [b"Subject: x\r\n\r\nhello\r\n", b"Subject: y\r\n\r\nworld\r\n"]
    assert read(mbox_of(msgs, b"\r\n"), 16) == msgs


def test_oversize_message_is_capped_and_the_next_one_survives() -> None:
    big = b"Subject: big\n\n" + b"x" * 5000 + b"\n"
    small = b"Subject: small\n\nok\n"
    got = read(mbox_of([big, small]), chunk=256, cap=1000)
    assert len(got) == 2
    assert got[0] == big[:1001]
    assert got[1] == small


@pytest.mark.parametrize("seed", range(6))
def test_any_mix_of_separator_styles_at_any_chunk_size(seed: int) -> None:
    """Blank line or none before each From_ line, LF or CRLF, dated or dash senders, bodies with
    "From " lines in them: every message back, whatever chunk boundary falls where."""
    rng = random.Random(seed)
    newline = b"\r\n" if seed % 3 == 0 else b"\n"
    seps = [
        SEP,
        b"From - Thu Nov 16 10:20:53 2006\n",
        b"From a@b  Mon Mar  3 12:00:00 +0000 2003\n",
    ]
    messages, data = [], b""
    for n, raw in enumerate(bulk_messages(30)):
        if n % 4 == 1:
            raw += b"\nFrom my point of view, fine.\nFrom here on: nothing\n"
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", newline)
        if not raw.endswith(newline):
            raw += newline
        blank = newline if rng.random() < 0.5 else b""
        data += rng.choice(seps).replace(b"\n", newline) + raw + blank
        messages.append(raw)
    got = read(data, rng.choice([5, 17, 256, 4096]))
    assert [g.rstrip(b"\r\n") for g in got] == [m.rstrip(b"\r\n") for m in messages]
