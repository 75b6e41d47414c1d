"""The IMAP poller's parser process: same results as parsing in place, and no mail lost when
that process dies."""

from __future__ import annotations

import dataclasses
import os
import signal
import time

import pytest

from sdesk.channels.email.fetching import ChildParser, Fetched, Parser, StoreBehind
from sdesk.channels.email.parse import DEFAULT_LIMITS
from sdesk.core.inbound import Inbound


def raw(n: int) -> bytes:
    return (
        f"From: Customer {n} <c{n}@example.org>\r\nSubject: Problem {n}\r\n"
        f"Message-ID: <m{n}@example.org>\r\n\r\nBody {n}.\r\n"
    ).encode()


def chunk(*uids: int) -> Fetched:
    junk = bytes(range(1, 9)) * 64  # no headers and not text: unparseable
    messages = [(u, junk if u % 5 == 0 else raw(u), f"imap:support/INBOX/1/{u}") for u in uids]
    return Fetched(uids[-1], messages, size=sum(len(m[1]) for m in messages))


def comparable(parsed: list[Inbound | str]) -> list[object]:
    """The parse results without the moment of parsing."""
    return [p if isinstance(p, str) else dataclasses.replace(p, received_at=None) for p in parsed]


def wait_up(parser: ChildParser) -> None:
    deadline = time.monotonic() + 60
    while not parser.up():
        assert time.monotonic() < deadline, "the parser process did not start within 60 s"
        time.sleep(0.05)


def test_the_process_parses_like_the_poller_and_hands_back_the_raw_bytes() -> None:
    here = Parser(DEFAULT_LIMITS)
    child = ChildParser(DEFAULT_LIMITS)
    try:
        wait_up(child)
        chunks = [chunk(1, 2, 3), chunk(4, 5, 6, 7), chunk(8)]
        for c in chunks:
            child.send(c)
        for c in chunks:
            got = child.receive(c)
            assert comparable(got) == comparable(here.receive(c))
            for (_, raw_bytes, _), p in zip(c.messages, got, strict=True):
                assert isinstance(p, str) or p.raw is raw_bytes  # kept here, not sent back
        assert isinstance(child.receive(chunk(10))[0], str)  # the junk is quarantined
    finally:
        child.close()


def test_chunks_held_by_a_dead_process_are_parsed_here() -> None:
    here = Parser(DEFAULT_LIMITS)
    child = ChildParser(DEFAULT_LIMITS)
    try:
        wait_up(child)
        first, second = chunk(1, 2), chunk(3, 4)
        child.send(first)
        assert comparable(child.receive(first)) == comparable(here.receive(first))
        pid = child.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        child.send(second)  # may still be queued before the death is noticed
        assert comparable(child.receive(second)) == comparable(here.receive(second))
        assert child.pid is None and not child.up()
        third = chunk(6, 7)
        child.send(third)
        assert comparable(child.receive(third)) == comparable(here.receive(third))
    finally:
        child.close()


def test_the_store_thread_stores_in_order_and_hands_back_its_failure() -> None:
    stored: list[int] = []

    def store(c: Fetched, parsed: list[Inbound | str]) -> None:
        if c.last_uid == 3:
            raise RuntimeError("disk full")
        stored.append(c.last_uid)

    behind = StoreBehind(store)
    behind.put(chunk(1), [])
    behind.put(chunk(2), [])
    behind.put(chunk(3), [])
    with pytest.raises(RuntimeError, match="disk full"):
        for uid in range(4, 10):  # refused once the failure is seen
            behind.put(chunk(uid), [])
        behind.finish()
    assert stored == [1, 2]
