"""``sdesk fetch`` and the mailbox lease, with real processes: a live holder is named and the
exit status says "try again later" (75); once that holder is killed with SIGKILL, the next fetch
takes the lease at once instead of waiting a minute for it to expire."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import Run

CONFIG = """
[[mailboxes]]
name = "support"
host = "127.0.0.1"
port = 1
security = "none"
username = "desk"
password_env = "SDESK_TEST_PASSWORD"
address = "support@desk.test"
timeout_seconds = 5
"""
CHILD = """
import sys, time
from sdesk.config import Settings
from sdesk.core import leases
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
desk = Desk(open_store(sys.argv[1]), Settings())
assert leases.acquire(desk, "imap:support", leases.holder_id("imap:support"))
print("held", flush=True)
time.sleep(120)
"""


def test_fetch_names_a_live_holder_and_takes_a_killed_ones_lease_at_once(
    sdesk: Run, sdesk_process: Run, sdesk_env: dict[str, str], tmp_path: Path
) -> None:
    cfg = tmp_path / "config" / "sdesk" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(CONFIG)
    sdesk_env["SDESK_TEST_PASSWORD"] = "secret"
    db = tmp_path / "d.db"
    assert sdesk("--db", str(db), "inbox").returncode == 0
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        busy = sdesk_process("--db", str(db), "fetch")
        assert busy.returncode == 75, busy.stderr
        assert busy.stderr.strip() == (
            f"sdesk: error: mailbox support is being fetched by pid {child.pid} on host "
            f"{socket.gethostname()}; try again later"
        )
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        after = sdesk_process("--db", str(db), "fetch")
        # The lease was taken: this fetch got as far as the (closed) IMAP port.
        assert "being fetched" not in after.stderr
        assert after.returncode == 1, after.stderr
        assert after.stderr.startswith("sdesk: error: mailbox support: cannot connect to ")
        assert "127.0.0.1" in after.stderr, after.stderr
    finally:
        child.kill()
        child.wait()
