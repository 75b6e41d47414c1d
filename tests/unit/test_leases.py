"""Leases and dead holders, with real processes: a holder killed with SIGKILL on this host gives
its lease up at once; a live one, and any holder on another host, keep it until it expires."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdesk.config import Settings
from sdesk.core import leases
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
from tests.conftest import FakeClock

NAME = "imap:support"
# Takes the lease through sdesk's own code, says so, then waits to be killed.
CHILD = """
import sys, time
from sdesk.config import Settings
from sdesk.core import leases
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
desk = Desk(open_store(sys.argv[1]), Settings())
holder = leases.holder_id(sys.argv[2])
assert leases.acquire(desk, sys.argv[2], holder)
print(holder, flush=True)
time.sleep(120)
"""


@pytest.fixture
def real_desk(tmp_path: Path) -> Iterator[Desk]:
    desk = Desk(open_store(tmp_path / "d.db"), Settings(desk_domain="desk.test"))  # real clock
    yield desk
    desk.close()


def start_holder(db: Path) -> tuple[subprocess.Popen[str], str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), NAME], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    return child, child.stdout.readline().strip()


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(done.stdout)


def test_a_killed_holders_lease_is_taken_over_at_once(real_desk: Desk, tmp_path: Path) -> None:
    child, held_by = start_holder(tmp_path / "d.db")
    try:
        mine = leases.holder_id(NAME)
        assert leases.parse_holder(held_by) == leases.Holder(
            socket.gethostname(), child.pid, leases.process_start(child.pid) or "", NAME
        )
        assert not leases.acquire(real_desk, NAME, mine)  # a live holder is respected
        assert leases.current(real_desk, NAME)[0] == held_by  # type: ignore[index]
        os.kill(child.pid, signal.SIGKILL)
        # Killed and not yet reaped (a zombie, as a parent that did not wait leaves it), then
        # reaped: either way the lease is free now, not in a minute.
        deadline = time.monotonic() + 10
        while leases.process_start(child.pid) is not None:  # a zombie: killed, not reaped
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert leases.acquire(real_desk, NAME, mine)  # at once, not in a minute
        assert leases.current(real_desk, NAME)[0] == mine  # type: ignore[index]
        child.wait(10)  # reaped: its pid is gone altogether
        leases.release(real_desk, NAME, mine)
        assert leases.acquire(real_desk, NAME, held_by)  # as if the dead child held it again
        assert leases.acquire(real_desk, NAME, mine)
    finally:
        child.kill()
        child.wait()


def test_a_reused_pid_does_not_keep_a_dead_holders_lease(real_desk: Desk) -> None:
    # This process is alive, but it is not the one that took the lease: another start time.
    start = leases.process_start(os.getpid())
    assert start
    impostor = f"{socket.gethostname()}:{os.getpid()}:{int(start) - 1}:{NAME}"
    assert leases.acquire(real_desk, NAME, impostor)
    assert leases.acquire(real_desk, NAME, leases.holder_id("fetch"))


def test_a_holder_in_the_older_format_is_judged_by_its_pid(real_desk: Desk) -> None:
    host = socket.gethostname()
    live = f"{host}:{os.getppid()}:{NAME}"  # host:pid:role, before start times were recorded
    assert leases.acquire(real_desk, NAME, live)
    assert not leases.acquire(real_desk, NAME, leases.holder_id(NAME))
    leases.release(real_desk, NAME, live)
    gone = f"{host}:{dead_pid()}:{NAME}"
    assert leases.acquire(real_desk, NAME, gone)
    assert leases.acquire(real_desk, NAME, leases.holder_id(NAME))


def test_a_holder_on_another_host_keeps_its_lease_until_it_expires(
    tmp_path: Path, clock: FakeClock
) -> None:
    desk = Desk(open_store(tmp_path / "d.db"), Settings(desk_domain="desk.test"), clock=clock)
    elsewhere = f"not-{socket.gethostname()}:{dead_pid()}:12345:{NAME}"  # a pid dead HERE
    assert leases.acquire(desk, NAME, elsewhere)
    mine = leases.holder_id(NAME)
    assert not leases.acquire(desk, NAME, mine)
    clock.advance(seconds=leases.DEFAULT_TTL.total_seconds() - 1)
    assert not leases.acquire(desk, NAME, mine)
    clock.advance(seconds=2)
    assert leases.acquire(desk, NAME, mine)
    desk.close()


def test_holder_ids_name_host_pid_start_and_role() -> None:
    parsed = leases.parse_holder(leases.holder_id("imap:support"))
    assert parsed is not None
    assert (parsed.host, parsed.pid, parsed.role) == (socket.gethostname(), os.getpid(), NAME)
    assert parsed.start == leases.process_start(os.getpid())
    assert str(parsed) == f"pid {os.getpid()} on host {socket.gethostname()}"
    assert leases.parse_holder("box:12:outbox") == leases.Holder("box", 12, "", "outbox")
    assert leases.parse_holder("not a holder") is None
