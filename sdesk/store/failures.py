"""Store failures a user can act on, each with its own exit status in the CLI.

A full disk and a desk whose write lock stays taken are not bugs: they become ``DiskFull`` and
``DeskBusy`` with a line that says what to do. ``lock_holder`` names the process holding a SQLite
desk's write lock when Linux tells (``/proc/locks``); elsewhere the message says "another process".
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy.exc import DBAPIError

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_FULL = 5, 6, 13
# PostgreSQL's SQLSTATEs: disk_full, insufficient_resources; lock_not_available.
_PG_FULL = ("53100", "53000")
_PG_BUSY = ("55P03",)
# Byte locks SQLite's unix VFS takes: in WAL mode the write lock is byte 120 of the -shm file
# (WAL_WRITE_LOCK); in rollback-journal mode RESERVED is byte PENDING_BYTE + 1 of the database.
_WAL_WRITE_BYTE = 120
_RESERVED_BYTE = 0x40000001


class StoreError(Exception):
    """A desk that cannot be opened or written; the message says what to fix."""


class BadDatabaseUrl(StoreError):
    """``--db`` / ``database_url`` is not a path or a URL sdesk can use (a usage error)."""


class DiskFull(StoreError):
    """The disk (or quota) is full; every transaction committed before is kept."""


class DeskBusy(StoreError):
    """Another process held the desk's write lock for longer than the busy timeout."""


def disk_full(where: str | Path) -> DiskFull:
    where = str(where)
    free = _free_space(where)
    return DiskFull(
        f"disk full: {where}{free}; free space and run the same command again "
        "(everything committed so far is kept)"
    )


def desk_busy(database: str | None, waited: float | None) -> DeskBusy:
    holder = lock_holder(database) if database else None
    held = f" for {waited:g} s" if waited else ""
    return DeskBusy(
        f"the desk is busy: {holder or 'another process'} held its write lock{held}; "
        "try again, or raise database.busy_timeout_seconds "
        "(env SDESK_DATABASE__BUSY_TIMEOUT_SECONDS)"
    )


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in DISK_FULL_ERRNOS
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(orig, sqlite3.Error):
        return _sqlite_code(orig) == _SQLITE_FULL or "database or disk is full" in str(orig)
    return getattr(orig, "sqlstate", None) in _PG_FULL


def is_busy(exc: BaseException) -> bool:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(orig, sqlite3.Error):
        code = _sqlite_code(orig)
        return code in (_SQLITE_BUSY, _SQLITE_LOCKED) or "database is locked" in str(orig)
    return getattr(orig, "sqlstate", None) in _PG_BUSY


def translate(exc: BaseException, database: str | None, waited: float | None) -> StoreError | None:
    """The ``DiskFull`` / ``DeskBusy`` an error from the store means, or None for any other.

    ``database``: the SQLite file (None for a server), named in the message; ``waited``: the
    busy timeout the lock was waited for."""
    if isinstance(exc, StoreError):
        return None
    if is_disk_full(exc):
        if isinstance(exc, OSError) and exc.filename:
            return disk_full(Path(os.fsdecode(exc.filename)).parent)
        return disk_full(database or "the desk's database")
    if is_busy(exc):
        return desk_busy(database, waited)
    return None


def _sqlite_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _free_space(where: str) -> str:
    path = Path(where)
    if not path.is_absolute():  # "the desk's database", "a file sdesk was writing"
        return ""
    for candidate in (path, *path.parents):
        if candidate.exists():
            try:
                free = shutil.disk_usage(candidate).free
            except OSError:
                return ""
            return f" ({free / 2**20:.1f} MiB free now)"
    return ""


def lock_holder(database: str) -> str | None:
    """Who holds the write lock of the SQLite desk ``database``: "pid N (command)", when this
    is Linux and the holder is visible here; None otherwise."""
    targets: dict[tuple[int, int, int], int] = {}
    for path, byte in ((f"{database}-shm", _WAL_WRITE_BYTE), (database, _RESERVED_BYTE)):
        try:
            st = os.stat(path)
        except OSError:
            continue
        targets[(os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)] = byte
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    for line in lines:
        pid = _lock_line_pid(line, targets)
        if pid:
            return describe_process(pid)
    return None


def _lock_line_pid(line: str, targets: dict[tuple[int, int, int], int]) -> int | None:
    # "1: POSIX  ADVISORY  WRITE 5065 fe:00:2146649 120 120"; "1: -> POSIX ..." is a waiter.
    fields = line.split()
    if len(fields) < 8 or fields[1] == "->" or fields[3] != "WRITE":
        return None
    try:
        pid = int(fields[4])
        major, minor, inode = fields[5].split(":")
        key = (int(major, 16), int(minor, 16), int(inode))
        start = int(fields[6])
        end = fields[7]
    except ValueError:
        return None
    byte = targets.get(key)
    if byte is None or pid <= 0:
        return None
    if start <= byte and (end == "EOF" or byte <= int(end)):
        return pid
    return None


def describe_process(pid: int) -> str:
    """ "pid N (its command line)" or, for this process, "this process (another connection)"."""
    if pid == os.getpid():
        return f"this process (pid {pid}, another of its connections)"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
    except OSError:
        return f"pid {pid}"
    command = " ".join(" ".join(arg.split()) for arg in argv)  # one line, whatever the args
    command = "".join(c if c.isprintable() else "?" for c in command)
    if len(command) > 80:
        command = command[:77] + "..."
    return f"pid {pid} ({command})" if command else f"pid {pid}"
