"""The IMAP poller's parser process: same results as parsing in place, and no mail lost when
that process dies."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bench.mailgen import generate_messages
from sdesk.channels.email import fetching
from sdesk.channels.email.fetching import ChildParser, Fetched, Parser, StoreBehind
from sdesk.channels.email.parse import DEFAULT_LIMITS
from sdesk.config import Settings
from sdesk.core.batch import Unparsed, intake_many
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel
from sdesk.core.inbound import Inbound
from sdesk.store.engine import open_store
from sdesk.store.rawcodec import BLOBS, IDENTITY, ZSTD_MAIL1, unpack
from tests.conftest import FakeClock, new_desk_url


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

    def store(group: list[tuple[Fetched, list[Inbound | str]]]) -> None:
        if any(c.last_uid == 3 for c, _ in group):
            raise RuntimeError("disk full")
        stored.extend(c.last_uid for c, _ in group)

    behind = StoreBehind(store)
    behind.put(chunk(1), [])
    behind.put(chunk(2), [])
    behind.put(chunk(3), [])
    with pytest.raises(RuntimeError, match="disk full"):
        for uid in range(4, 10):  # refused once the failure is seen
            behind.put(chunk(uid), [])
        behind.finish()
    # 1 and 2 may share 3's transaction (then they are rolled back with it); nothing after 3
    assert stored in ([], [1], [1, 2])


def test_chunks_waiting_for_a_busy_store_are_stored_together_in_order() -> None:
    groups: list[list[int]] = []
    busy = threading.Event()

    def store(group: list[tuple[Fetched, list[Inbound | str]]]) -> None:
        busy.wait(10)  # the first store is slow: the next chunks wait meanwhile
        groups.append([uid for c, _ in group for uid, _, _ in c.messages])

    behind = StoreBehind(store)
    behind.put(chunk(1), [])
    deadline = time.monotonic() + 10
    while behind._waiting and time.monotonic() < deadline:  # the store thread took chunk 1
        time.sleep(0.01)
    big = fetching.GROUP_MESSAGES // 2
    for start in range(2, 2 + 3 * big, big):
        behind.put(chunk(*range(start, start + big)), [])
    busy.set()
    behind.finish()
    assert groups[0] == [1]
    assert [uid for g in groups for uid in g] == list(range(1, 2 + 3 * big))
    # two waiting chunks fill one transaction; the third does not fit and goes in the next
    assert [len(g) for g in groups[1:]] == [2 * big, big]


def raw_rows(desk: Desk) -> dict[str, tuple[bytes, str, int]]:
    """Each raw_inbound row by the sha256 of its original bytes: (raw, raw_codec, raw_size)."""
    with desk.store.read() as session:
        rows = session.execute(text("SELECT sha256, raw, raw_codec, raw_size FROM raw_inbound"))
        return {r[0]: (bytes(r[1]), r[2], r[3]) for r in rows}


def test_a_message_parsed_in_the_process_is_stored_as_one_parsed_in_place(
    desk: Desk, backend: str, request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> None:
    """A large sync's path (the parser process, the store thread, each raw message kept as it
    came and packed after the sync) and a small one's (parsed and packed in place) end with the
    same bytes and codec for each message, and both give the original back: attachments as
    blob references, text, and junk."""
    incompressible = b"Subject: noise\r\n\r\n" + os.urandom(300) + b"\r\n"
    raws = [m.replace(b"\n", b"\r\n") for m in generate_messages(60, seed=3)]
    raws += [incompressible, bytes(range(1, 9)) * 64]  # the last one is unparseable
    numbered = [(uid, r, f"imap:support/INBOX/1/{uid}") for uid, r in enumerate(raws, start=1)]
    fetched = [
        Fetched(part[-1][0], part) for i in range(0, 62, 25) for part in [numbered[i : i + 25]]
    ]

    def items(group: list[tuple[Fetched, list[Inbound | str]]]) -> list[Inbound | Unparsed]:
        return [
            Unparsed(Channel.EMAIL, r, p, src) if isinstance(p, str) else p
            for c, parsed in group
            for (_, r, src), p in zip(c.messages, parsed, strict=True)
        ]

    ahead: list[Inbound | Unparsed] = []

    def store_ahead(group: list[tuple[Fetched, list[Inbound | str]]]) -> None:
        batch = items(group)
        ahead.extend(batch)
        intake_many(desk, batch, bulk=True)

    child = ChildParser(DEFAULT_LIMITS)
    try:
        wait_up(child)
        behind = StoreBehind(store_ahead)
        for c in fetched:
            child.send(c)
        for c in fetched:
            behind.put(c, child.receive(c))
        behind.finish()
    finally:
        child.close()
    kept = raw_rows(desk)
    assert len(kept) == len(raws)
    # as they came, but the unparseable one (quarantined: packed in its transaction)
    assert sorted(codec or "" for _, codec, _ in kept.values()) == [""] * (len(raws) - 1) + [
        ZSTD_MAIL1
    ]
    assert desk.compact_raw().rows == len(raws) - 1
    (tmp_path / "b").mkdir()
    url = new_desk_url(backend, request, tmp_path / "b")
    in_place = Desk(
        open_store(url, attachments=tmp_path / "b.files"),
        Settings(desk_domain="desk.test"),
        clock=clock,
    )
    try:
        here = Parser(DEFAULT_LIMITS)
        for c in fetched:
            intake_many(in_place, items([(c, here.receive(c))]))
        got, want = raw_rows(desk), raw_rows(in_place)
        originals = {hashlib.sha256(r).hexdigest(): r for r in raws}
        assert set(got) == set(want) == set(originals)
        assert got == want  # the same stored bytes, codec and size for every message
        assert {codec for _, codec, _ in got.values()} == {BLOBS, ZSTD_MAIL1, IDENTITY}
        for digest, (stored, codec, size) in got.items():
            assert unpack(stored, codec, desk.store.blobs.get) == originals[digest]
            assert unpack(stored, codec, in_place.store.blobs.get) == originals[digest]
            assert size == len(originals[digest])
    finally:
        in_place.close()
    parsed = [i for i in ahead if isinstance(i, Inbound)]
    assert len(parsed) == len(raws) - 1
    assert all(i.pack_later for i in parsed)  # left to the packing after the sync


MAIN_SCRIPT = """\
import pathlib, sys
with pathlib.Path(sys.argv[1]).open("a") as marks:  # a console script's top-level imports
    marks.write("main ran\\n")
from sdesk.channels.email.parse import DEFAULT_LIMITS, parse_many
from sdesk.channels.files.pipeline import ChildProcess

if __name__ == "__main__":
    with ChildProcess(parse_many, (DEFAULT_LIMITS,), name="probe", takes_jobs=True) as child:
        assert child.receive() == []  # the process is up and parsing
    print(sys.modules["__main__"].__file__)
"""


def test_the_process_does_not_run_the_parents_main_script_again(tmp_path: Path) -> None:
    """spawn re-runs the parent's script unless told not to: for the ``sdesk`` console script
    that is the whole CLI imported again, 0.5 s of CPU in every parser process."""
    script, marks = tmp_path / "console_script.py", tmp_path / "marks"
    script.write_text(MAIN_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), str(marks)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert marks.read_text() == "main ran\n"  # the parent's run only
    assert done.stdout.strip() == str(script)  # and __main__ is as it was
