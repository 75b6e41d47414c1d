"""Log lines never land on the console's screen: while it runs they go to a private file, and
one line on leaving says where. A mailbox whose server refuses every connection makes the
console's own poller warn again and again while the operator works."""

from __future__ import annotations

import socket
import stat
import sys
import time
from pathlib import Path

import pytest

from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.core.enums import Role
from sdesk.store.engine import open_store
from tests.smoke.ptyterm import Pty, sdesk_env

pytestmark = pytest.mark.timeout(90)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_poller_warnings_go_to_a_file_not_the_screen(pty_term: Pty, tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    desk = Desk(open_store(db), Settings())
    desk.add_agent("dana", role=Role.ADMIN)
    desk.close()
    env = sdesk_env(tmp_path)
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["SUPPORT_PASSWORD"] = "not-a-secret"
    config = tmp_path / "config" / "sdesk" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        "[[mailboxes]]\n"
        'name = "support"\n'
        'host = "127.0.0.1"\n'
        f"port = {closed_port()}\n"
        'security = "none"\n'
        'username = "support@example.org"\n'
        'password_env = "SUPPORT_PASSWORD"\n'
        'address = "support@example.org"\n'
    )
    console = pty_term.spawn(
        [sys.executable, "-m", "sdesk", "--db", str(db), "--agent", "dana"], env
    )
    log = tmp_path / "state" / "sdesk" / "log" / "console.log"
    try:
        pty_term.wait_for("dana", timeout=30)
        deadline = time.monotonic() + 30
        while "mailbox support" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "the poller never warned"
            time.sleep(0.2)
        time.sleep(1.5)  # the poller retries after a second: a second warning, same place
        pty_term.send("q")
        assert console.wait(timeout=20) == 0
    finally:
        if console.poll() is None:
            console.kill()
    screen = pty_term.text()
    assert "mailbox support" not in screen.split("warning(s) while the console ran")[0]
    assert "warning(s) while the console ran; see" in screen
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert "not-a-secret" not in log.read_text()
