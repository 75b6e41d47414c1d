"""``sdesk demo`` in a real terminal: tmux runs the console, the test types keys and reads the
screen, as an operator would. Select a ticket, reply, take it, resolve it, quit; then check the
desk file holds what the screen said."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from tests.smoke.tmuxterm import Terminal, sdesk_command

pytestmark = pytest.mark.timeout(120)

REPLY = f"smoke reply {os.getpid() % 10_000:04d}"


def console_command(tmp_path: Path, db: Path) -> str:
    return sdesk_command(tmp_path, "demo", "--db", str(db))


def test_demo_console_reply_assign_resolve(terminal: Terminal, tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    terminal.start(console_command(tmp_path, db))

    # The inbox: the top bar says who we are, the filter bar counts the active tickets, the
    # rows start with their ticket numbers. The page is read first and the counts after it, so
    # on a busy machine a screen can show the rows before the counts: wait for both.
    operator = re.compile(r"^ sdesk\s+(.+?) \((\S+), \w+\)", re.MULTILINE)
    terminal.wait_for(operator, timeout=30)
    terminal.wait_for(re.compile(r"^#\d+ ", re.MULTILINE))
    screen = terminal.wait_for(re.compile(r"\bActive \d"))
    who = operator.search(screen)
    active = re.search(r"\bActive ([\d,]+)", screen)
    assert who and active, f"no top bar or filter bar:\n{screen}"
    name, me = who.group(1), who.group(2)
    active_before = int(active.group(1).replace(",", ""))
    rows = re.findall(r"^#(\d+) ", screen, re.MULTILINE)
    assert len(rows) >= 3, f"the inbox shows fewer than 3 tickets:\n{screen}"

    # Select the third ticket with the cursor and open it.
    number = int(rows[2])
    terminal.keys("Down", "Down")
    terminal.keys("Enter")
    screen = terminal.wait_for(" · opened ")
    lines = screen.splitlines()
    header = next(i for i, line in enumerate(lines) if " · opened " in line)
    assert re.search(rf"#{number}\s", lines[header - 1]), (
        f"Down Down Enter should open #{number} (the third row):\n{screen}"
    )

    # Reply.
    terminal.keys("r")
    terminal.wait_for(f"Reply on #{number}")
    terminal.type(REPLY)
    terminal.wait_for(REPLY)
    terminal.keys("C-s")
    # The demo desk has no channel to send on: the reply is kept and says why (issue 14.10).
    terminal.wait_for("reply kept, not sent")
    terminal.keys("End")  # the thread keeps its scroll position after a send
    terminal.wait_for(
        re.compile(rf"◀ \S+ reply\s+{re.escape(name)}\s.*waiting(?:.*\n){{1,4}}.*{REPLY}")
    )
    assert f"Reply on #{number}" not in terminal.screen(), "the reply box stays open after send"

    # Take it.
    terminal.keys("a")
    terminal.wait_for(f"#{number} assigned to you")
    terminal.wait_for(f"assigned to {me} · ")

    # Resolve it: the picker lists new/open/pending/resolved/closed and starts on the current
    # status, so go to the top first.
    terminal.keys("s")
    terminal.wait_for(f"Status of #{number}")
    terminal.keys("Home", "Down", "Down", "Down", "Enter")
    terminal.wait_for(f"#{number} is resolved")
    screen = terminal.wait_for(" · resolved · ")
    assert f"assigned to {me} · " in screen

    # The ticket left the active ones; Escape goes back to the inbox.
    terminal.wait_for(f"Active {active_before - 1:,} ")
    terminal.keys("Escape")
    terminal.wait_for(re.compile(r"^#\s+CH\s", re.MULTILINE))

    terminal.keys("q")
    assert terminal.wait_exit() in (0, None), terminal.screen()  # None: exited, status unread

    # What the screen said is what the desk holds.
    with closing(sqlite3.connect(db)) as con:
        status, assignee = con.execute(
            "SELECT t.status, a.login FROM ticket t LEFT JOIN agent a ON a.id = t.assignee_id"
            " WHERE t.number = ?",
            (number,),
        ).fetchone()
        replies = con.execute(
            "SELECT m.text, m.delivery_state, a.login FROM message m"
            " JOIN ticket t ON t.id = m.ticket_id LEFT JOIN agent a ON a.id = m.author_agent_id"
            " WHERE t.number = ? AND m.kind = 'reply' AND m.text = ?",
            (number, REPLY),
        ).fetchall()
    assert (status, assignee) == ("resolved", me)
    assert replies == [(REPLY, "waiting", me)]  # no channel set up in the demo: kept, not sent

    shown = subprocess.run(
        [sys.executable, "-m", "sdesk", "--db", str(db), "show", str(number)],
        env={
            **os.environ,
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
        },
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"#{number} ")
    assert re.search(rf"^resolved · .*assignee {re.escape(me)}\b", shown.stdout, re.MULTILINE)
    assert REPLY in shown.stdout
