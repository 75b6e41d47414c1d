"""The desk's files hold customer mail and phone numbers: for the desk's user only.

New files are 0600 and new folders 0700 whatever the umask (SQLite gives the ``-wal``, ``-shm``
and journal files the database file's own mode, so creating that one 0600 covers them). An
existing desk that other users can read is the admin's choice: it is not changed, only named
once per process, with the command that makes it private.
"""

from __future__ import annotations

import logging
import os
import shlex
import stat
from pathlib import Path

log = logging.getLogger("sdesk.store")
_warned: set[str] = set()


def private_dir(path: Path) -> None:
    """Make ``path`` and its missing parents, each one it makes 0700; existing ones are left."""
    missing: list[Path] = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue  # made meanwhile by another thread or process: theirs to set
        os.chmod(folder, 0o700)  # the umask may have taken bits away, never added any


def private_file(path: Path) -> bool:
    """Create an empty ``path`` 0600 unless it exists; True when it was made here."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return True


def warn_if_shared(database: Path, blobs: Path) -> None:
    """One warning (once per process) when other users may read the desk or its attachments."""
    shared = []
    for path in (database, blobs):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            shared.append(f"{path} (mode {mode:04o})")
    key = str(database)
    if not shared or key in _warned:
        return
    _warned.add(key)
    log.warning(
        "desk %s is readable by other users: %s; to keep it private: chmod -R go= %s*",
        database,
        ", ".join(shared),
        shlex.quote(str(database)),
    )
