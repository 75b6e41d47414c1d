"""Another process holding a SQLite desk's write lock, as any sdesk write takes it."""

from __future__ import annotations

import subprocess
import sys

# Holds the lock (BEGIN IMMEDIATE) for argv[2] seconds, saying "held" once it has it.
HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def hold_write_lock(database: str, seconds: float) -> subprocess.Popen[str]:
    """A process that holds the lock from now for ``seconds``, then commits and exits 0."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, database, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc
