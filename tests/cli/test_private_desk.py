"""The default desk, made by the real command under umask 022: private folders and file, and
one warning line for a desk other users can read."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Run


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)  # inherited by the sdesk process
    try:
        yield
    finally:
        os.umask(old)


def test_the_default_data_dir_and_desk_are_private(
    sdesk: Run, tmp_path: Path, umask_022: None
) -> None:
    result = sdesk("inbox")  # no --db: the desk in the data dir, made here
    assert result.returncode == 0, result.stderr
    data = tmp_path / "data"
    assert mode(data) == 0o700
    assert mode(data / "sdesk") == 0o700
    assert mode(data / "sdesk" / "desk.db") == 0o600
    (data / "sdesk" / "desk.db").chmod(0o640)
    again = sdesk("inbox")
    lines = [ln for ln in again.stderr.splitlines() if "readable by other users" in ln]
    assert len(lines) == 1 and lines[0].startswith("sdesk: desk "), again.stderr
    assert "(mode 0640)" in lines[0]


def test_an_export_file_is_private_and_an_existing_one_keeps_its_mode(
    sdesk: Run, tmp_path: Path, umask_022: None
) -> None:
    db = str(tmp_path / "d.db")
    assert sdesk("--db", db, "inbox").returncode == 0
    new = tmp_path / "tickets.jsonl"
    assert sdesk("--db", db, "export", "-o", str(new)).returncode == 0
    assert mode(new) == 0o600  # was 0644: every customer's mail, readable by all
    shared = tmp_path / "shared.csv"
    shared.write_text("old")
    shared.chmod(0o644)  # the admin chose this: left alone
    assert sdesk("--db", db, "export", "-f", "csv", "-o", str(shared)).returncode == 0
    assert mode(shared) == 0o644 and "old" not in shared.read_text()
