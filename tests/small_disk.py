"""A real, small filesystem (tmpfs) for disk-full tests: ENOSPC from the kernel, not a fake.

Mounting needs root (or passwordless sudo). Where neither works the test is skipped on a
developer's machine but FAILS in CI (``CI`` set), so a CI that cannot run it is noticed.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=30)


@contextlib.contextmanager
def small_disk(folder: Path, size_kib: int) -> Iterator[Path]:
    """``folder`` as a fresh tmpfs of ``size_kib`` KiB, owned by this user; unmounted after."""
    folder.mkdir(parents=True, exist_ok=True)
    options = f"size={size_kib}k,mode=0700,uid={os.getuid()},gid={os.getgid()}"
    try:
        mounted = _run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)])
    except (OSError, subprocess.TimeoutExpired) as exc:
        mounted = subprocess.CompletedProcess([], 1, "", str(exc))
    if mounted.returncode != 0:
        reason = f"cannot mount a small tmpfs for a disk-full test: {mounted.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must run this test: give it root or passwordless sudo)")
        pytest.skip(reason)
    try:
        yield folder
    finally:
        _run(["umount", "-l", str(folder)])


def fill(folder: Path, leave_kib: int = 0) -> Path:
    """Write a filler file until the filesystem has at most ``leave_kib`` KiB free."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while free_kib(folder) > leave_kib:
            try:
                os.write(fd, b"\0" * 4096)
            except OSError:
                break
    finally:
        os.close(fd)
    return filler


def free_kib(folder: Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize // 1024
