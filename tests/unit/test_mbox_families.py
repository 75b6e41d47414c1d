"""mbox files as real tools write them — mboxo, mboxrd, mboxcl2, separators with no blank line
before them — come back one message each, byte for byte, at any chunk size; and files are
recognised by what they hold, not by their names."""

from __future__ import annotations

import io

import pytest

from sdesk.channels.files.readers import _iter_mbox, sniff_head

CHUNKS = [7, 100, 1 << 20]


def read(data: bytes, chunk: int, cap: int = 10_000_000) -> list[bytes]:
    return [item.raw for item in _iter_mbox(io.BytesIO(data), "x", cap, chunk=chunk)]


def mail(n: int, body: bytes = b"") -> bytes:
    return (
        b"Return-Path: <a%d@example.org>\n"
        b"From: Sender %d <a%d@example.org>\n"
        b"Subject: message %d\n"
        b"Message-ID: <m%d@example.org>\n"
        b"\n" % (n, n, n, n, n)
    ) + (body or b"text of message %d\n" % n)


SEPARATORS = [
    b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011",
    b"From - Thu Nov 16 10:20:53 2006",
    b"From foo@bar Sat Jan  3 01:05:34 1996",
    b"From foo@example.com  Mon Mar  3 12:00:00 +0000 2003",
    b"From foo@example.com Mon Mar  3 12:00:00 2003 +0000",
    b"From foo@example.com Mon Mar  3 12:00 PST 2003",
    b"From 1781234567890@xxx Tue Jan 09 13:56:11 +0000 2024",
    b"From foo@example.com Mon, 3 Mar 2003 12:00:00 +0000",
]


@pytest.mark.parametrize("chunk", CHUNKS)
def test_separators_without_a_blank_line_before_them_split(chunk: int) -> None:
    """The trial's 29-message mbox that imported 19: writers that leave out the blank line."""
    messages = [mail(n) for n in range(len(SEPARATORS) * 3)]
    data = b"".join(SEPARATORS[n % len(SEPARATORS)] + b"\n" + m for n, m in enumerate(messages))
    assert read(data, chunk) == messages[:-1] + [messages[-1].rstrip(b"\n")]


@pytest.mark.parametrize("chunk", CHUNKS)
def test_mixed_blank_and_no_blank_separators_and_crlf(chunk: int) -> None:
    messages = [mail(n).replace(b"\n", b"\r\n") for n in range(6)]
    data = b""
    for n, m in enumerate(messages):
        data += b"From x@y Mon Nov  2 09:00:00 2026\r\n" + m + (b"\r\n" if n % 2 else b"")
    got = read(data, chunk)
    assert len(got) == 6
    assert [g.split(b"\r\n")[2] for g in got] == [b"Subject: message %d" % n for n in range(6)]


@pytest.mark.parametrize("chunk", CHUNKS)
def test_a_body_line_from_my_point_of_view_never_splits(chunk: int) -> None:
    body = (
        b"Hello,\n\nFrom my point of view the router is fine.\n"
        b"From here on we disagree.\n\nFrom now: nothing.\nthanks\n"
    )
    messages = [mail(1, body), mail(2)]
    data = b"".join(b"From a@b Mon Nov  2 09:00:00 2026\n" + m + b"\n" for m in messages)
    assert read(data, chunk) == messages


@pytest.mark.parametrize("chunk", CHUNKS)
def test_a_from_line_without_a_date_after_a_blank_line_splits_only_before_headers(
    chunk: int,
) -> None:
    """Some exporters write ``From sender`` with no date: followed by headers it separates."""
    messages = [mail(1), mail(2), mail(3)]
    data = b"".join(b"From sender@example.org\n" + m + b"\n" for m in messages)
    assert read(data, chunk) == messages


@pytest.mark.parametrize("chunk", CHUNKS)
def test_mboxrd_quoting_is_undone_one_level(chunk: int) -> None:
    body = b"x\n>From quoted once\n>>From quoted twice\n>Fromage\n"
    data = b"From a@b Mon Nov  2 09:00:00 2026\n" + mail(1, body) + b"\n"
    (got,) = read(data, chunk)
    assert got.endswith(b"x\nFrom quoted once\n>From quoted twice\n>Fromage\n")


def cl2(n: int, body: bytes) -> bytes:
    head = mail(n).split(b"\n\n")[0]
    return head + b"\nContent-Length: %d\n\n" % len(body) + body


@pytest.mark.parametrize("chunk", CHUNKS)
def test_mboxcl2_content_length_keeps_a_body_from_line(chunk: int) -> None:
    """mboxcl2 does not quote: a forwarded raw mail in a body has a complete From_ line after a
    blank line, followed by headers — only Content-Length tells it is not a separator."""
    forwarded = b"see below\n\nFrom evil@example.org Mon Nov  2 09:00:00 2026\n" + mail(9)
    messages = [cl2(1, forwarded), cl2(2, b"plain\n"), cl2(3, b"x\n")]
    data = b"".join(b"From a@b Mon Nov  2 09:00:00 2026\n" + m + b"\n" for m in messages)
    got = read(data, chunk)
    assert len(got) == 3
    assert got[0] == messages[0]
    assert got[2] == messages[2]


@pytest.mark.parametrize("chunk", CHUNKS)
def test_a_wrong_content_length_is_ignored(chunk: int) -> None:
    wrong = mail(1).replace(b"\n\n", b"\nContent-Length: 3\n\n", 1)
    messages = [wrong, mail(2)]
    data = b"".join(b"From a@b Mon Nov  2 09:00:00 2026\n" + m + b"\n" for m in messages)
    assert read(data, chunk) == messages


def test_a_file_starting_with_a_bom_and_blank_lines() -> None:
    data = b"\xef\xbb\xbf\nFrom a@b Mon Nov  2 09:00:00 2026\n" + mail(1)
    assert read(data, 1 << 20) == [mail(1).rstrip(b"\n")]


SNIFF_CASES = [
    (b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\n" + mail(1), "a.txt", "mbox"),
    (b"From sender@example.org\n" + mail(1), "archive", "mbox"),
    (mail(1), "a.txt", "eml"),
    (mail(1), "no-extension", "eml"),
    (mail(1), "a.msg", "eml"),
    (b"\xef\xbb\xbf" + mail(1), "a.box", "eml"),
    (
        b"Received: from mx by x;\n\tMon, 2 Nov 2026 09:00:00 +0000\nFrom: a@b\n\nhi",
        "1.txt",
        "eml",
    ),
    (mail(1), "a.mbox", "eml"),  # one mail without a From_ line: content wins
    (b'{"channel": "sms", "text": "hi"}\n', "export.txt", "jsonl"),
    (b"From the desk of the director\n\nHello all,\n", "memo.txt", None),
    (b"README\n======\n\nNote: this folder holds mail.\n", "README.txt", None),
    (b"Title: notes\nAuthor: me\n\ntext\n", "notes.md", None),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "logo.png", None),
    (b"", "empty.txt", None),
    (b"not a mail, but its name says so", "x.eml", "eml"),
]


@pytest.mark.parametrize(
    ("head", "name", "kind"), SNIFF_CASES, ids=[f"{n}-{k}" for _, n, k in SNIFF_CASES]
)
def test_files_are_recognised_by_content(head: bytes, name: str, kind: str | None) -> None:
    assert sniff_head(head, name, complete=True) == kind
