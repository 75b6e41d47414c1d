"""Every update exactly once, with a real ``sdesk serve`` process SIGKILLed at the two moments
that matter (ARCHITECTURE.md rule 1):

(a) between receiving a batch and storing it: another process holds the desk's write lock, so
    the poller has the batch in hand and waits on the store when it is killed;
(b) after storing a batch and before the next poll confirms it: the server holds the next
    ``getUpdates`` for 30 s, the store already has the batch when the process is killed.

After a restart every update is in the store once, and the server saw the offsets that confirm
exactly what was stored. Every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sdesk.channels.telegram.intake import stored_update_ids
from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
from sdesk.store.models import Message
from tests.locks import hold_write_lock
from tests.telegram.botapi import BotApiServer
from tests.telegram.conftest import TOKEN_ENV
from tests.telegram.updates import Updates

pytestmark = pytest.mark.timeout(180)


class Serve:
    """One ``sdesk serve``; its output is read by a thread so the pipe never fills."""

    def __init__(self, db: Path, config: Path, token: str) -> None:
        env = {**os.environ, "SDESK_CONFIG": str(config), TOKEN_ENV: token}
        env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sdesk", "--db", str(db), "serve"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


def wait_for(check: Callable[[], object], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"waited {seconds:g}s for {what}"
        time.sleep(0.05)


@pytest.fixture
def setup(tmp_path: Path, server: BotApiServer) -> Iterator[tuple[Path, Callable[[], Serve], Desk]]:
    config = tmp_path / "config.toml"
    config.write_text(
        "[telegram]\n"
        f'token_env = "{TOKEN_ENV}"\n'
        f'base_url = "{server.root_url}"\n'
        "poll_timeout_seconds = 20\n"
        "acknowledge = false\n",
        encoding="utf-8",
    )
    db = tmp_path / "desk.db"
    desk = Desk(open_store(db), Settings())
    started: list[Serve] = []

    def start() -> Serve:
        started.append(Serve(db, config, server.token))
        return started[-1]

    try:
        yield db, start, desk
    finally:
        for s in started:
            s.kill()
        desk.close()


def polls(server: BotApiServer) -> list[dict[str, object]]:
    return [p for m, p in list(server.calls) if m == "getUpdates"]


def messages(desk: Desk) -> int:
    with desk.store.read() as s:
        return int(s.execute(select(func.count()).select_from(Message)).scalar_one())


def test_killed_between_receiving_a_batch_and_storing_it(
    setup: tuple[Path, Callable[[], Serve], Desk], server: BotApiServer, tg: Updates
) -> None:
    db, start, desk = setup
    ann = tg.customer(1)
    first = server.push_many([tg.text(ann, f"early {n}") for n in range(3)])
    serve = start()
    wait_for(lambda: stored_update_ids(desk) == set(first), "the first batch")
    # The poll that confirms the first batch waits (20 s long poll) for news.
    wait_for(lambda: any(p.get("offset") == max(first) + 1 for p in polls(server)), "a poll")
    holder = hold_write_lock(str(db), 60)
    try:
        n = len(polls(server))
        ids = server.push_many([tg.text(ann, f"batch {i}") for i in range(5)])
        # The waiting long poll returns the batch at once; storing it waits on the lock.
        time.sleep(1.5)
        assert len(polls(server)) == n  # no poll since: the poller is stuck on the store
        serve.kill()
    finally:
        holder.kill()
        holder.wait(10)
    assert stored_update_ids(desk) == set(first)  # nothing of the batch was stored...
    assert server.pending() == 5  # ...and nothing of it confirmed
    again = start()
    wait_for(lambda: stored_update_ids(desk) == {*first, *ids}, "the batch after the restart")
    wait_for(lambda: server.pending() == 0, "the confirmation")
    again.kill()
    assert messages(desk) == 8  # each update once
    offsets = [p.get("offset") for p in polls(server)]
    assert max(first) + 1 in offsets and max(ids) + 1 in offsets
    assert all(o is None or int(str(o)) <= max(ids) + 1 for o in offsets)


def test_killed_after_storing_a_batch_before_the_next_poll(
    setup: tuple[Path, Callable[[], Serve], Desk], server: BotApiServer, tg: Updates
) -> None:
    _db, start, desk = setup
    ann = tg.customer(1)
    serve = start()
    wait_for(lambda: len(polls(server)) >= 1, "the first poll")
    server.delay("getUpdates", 30)  # the poll after the batch hangs
    ids = server.push_many([tg.text(ann, f"msg {n}") for n in range(4)])
    wait_for(lambda: stored_update_ids(desk) == set(ids), "the batch stored")
    wait_for(lambda: any(p.get("offset") == max(ids) + 1 for p in polls(server)), "next poll")
    serve.kill()
    assert messages(desk) == 4
    again = start()
    n = len(polls(server))
    more = server.push_many([tg.text(ann, "after the restart")])
    wait_for(lambda: stored_update_ids(desk) == {*ids, *more}, "the new update")
    again.kill()
    assert messages(desk) == 5  # the batch was not taken twice
    restarted = polls(server)[n - 1 :]
    # The restarted poller asked from the stored cursor: past the stored batch at once.
    assert all(int(str(p["offset"])) >= max(ids) + 1 for p in restarted if "offset" in p)
