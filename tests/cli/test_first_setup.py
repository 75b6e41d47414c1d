"""Setting sdesk up as a new user (issue 14, items 12 and 13): ``--version``, a mailbox that is
only read, ``sdesk fetch`` errors in the documented form, ``sdesk doctor`` that only looks."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Run
from tests.cli.test_errors import assert_one_line_error


def installed_script() -> str:
    """The ``sdesk`` console script pip installed beside this Python (a venv's or pyenv's bin),
    else the one on PATH."""
    beside = Path(sys.executable).with_name("sdesk")
    found = str(beside) if beside.exists() else shutil.which("sdesk")
    assert found, "the sdesk script is not installed: pip install -e ."
    return found


def test_version_comes_from_the_package(sdesk_env: dict[str, str]) -> None:
    """Through the installed entry point, as a user runs it (the other CLI tests call it in
    this process or as ``python -m sdesk``)."""
    from importlib.metadata import version

    result = subprocess.run(
        [installed_script(), "--version"],
        env=sdesk_env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"sdesk {version('sdesk')}\n"
    assert result.stdout == "sdesk 0.1.0\n"


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def write_config(sdesk_env: dict[str, str], text: str) -> Path:
    path = Path(sdesk_env["XDG_CONFIG_HOME"]) / "sdesk" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def mailbox(port: int, *, smtp: bool = False, address: bool = False) -> str:
    text = f"""
[[mailboxes]]
name = "support"
host = "127.0.0.1"
port = {port}
security = "none"
username = "support"
password_env = "SDESK_TEST_PW"
timeout_seconds = 5
"""
    if address:
        text += 'address = "support@desk.test"\n'
    if smtp:
        text += f'\n[mailboxes.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
    return text


def test_a_mailbox_that_is_only_read_needs_no_address(
    sdesk: Run, sdesk_env: dict[str, str], tmp_path: Path, refused_port: int
) -> None:
    write_config(sdesk_env, mailbox(refused_port))
    result = sdesk("--db", str(tmp_path / "d.db"), "inbox")
    assert result.returncode == 0, result.stderr


def test_a_mailbox_that_answers_needs_its_address(
    sdesk: Run, sdesk_env: dict[str, str], tmp_path: Path, refused_port: int
) -> None:
    write_config(sdesk_env, mailbox(refused_port, smtp=True))
    result = sdesk("--db", str(tmp_path / "d.db"), "inbox")
    assert_one_line_error(
        result,
        "config key 'mailboxes.0.address': required when the mailbox has [mailboxes.smtp]: "
        "replies are sent from it",
    )
    assert result.returncode == 1
    write_config(sdesk_env, mailbox(refused_port, smtp=True, address=True))
    assert sdesk("--db", str(tmp_path / "d.db"), "inbox").returncode == 0


def test_fetch_error_is_one_documented_line_naming_the_mailbox_once(
    sdesk: Run, sdesk_env: dict[str, str], tmp_path: Path, refused_port: int
) -> None:
    write_config(sdesk_env, mailbox(refused_port))
    result = sdesk("--db", str(tmp_path / "d.db"), "fetch", "-m", "support")
    assert_one_line_error(result, f"mailbox support: cannot connect to 127.0.0.1:{refused_port}: ")
    assert result.returncode == 1
    assert result.stderr.count("support") == 1, result.stderr


def test_doctor_creates_no_desk(
    sdesk: Run, sdesk_env: dict[str, str], tmp_path: Path, refused_port: int
) -> None:
    write_config(sdesk_env, mailbox(refused_port))
    data = Path(sdesk_env["XDG_DATA_HOME"])
    result = sdesk("doctor")
    assert f"no desk at {data / 'sdesk' / 'desk.db'} yet" in result.stdout, result.stdout
    assert "  info poller: never ran (no desk yet)" in result.stdout
    assert not data.exists(), list(data.rglob("*"))  # not even the data folder
    # A mailbox nobody answers at is the failure (exit 1), not the missing desk.
    assert f"FAIL mailbox support: cannot connect to 127.0.0.1:{refused_port}" in result.stdout
    assert result.returncode == 1
    named = tmp_path / "named.db"
    again = sdesk("--db", str(named), "doctor")
    assert f"no desk at {named} yet" in again.stdout
    assert not named.exists()


def test_doctor_reads_an_existing_desk(
    sdesk: Run, sdesk_env: dict[str, str], tmp_path: Path, refused_port: int
) -> None:
    db = tmp_path / "d.db"
    assert sdesk("--db", str(db), "inbox").returncode == 0  # made here
    write_config(sdesk_env, mailbox(refused_port))
    result = sdesk("--db", str(db), "doctor")
    assert "no desk" not in result.stdout
    assert "  info poller: never ran on this desk, 0 quarantined" in result.stdout


def test_doctor_says_when_the_cabinet_cannot_mail_sign_in_links(
    sdesk: Run, sdesk_env: dict[str, str], tmp_path: Path, refused_port: int
) -> None:
    http = '[http]\npublic_url = "https://help.example.com"\n'
    write_config(sdesk_env, http + mailbox(refused_port))
    result = sdesk("--db", str(tmp_path / "d.db"), "doctor")
    assert "web cabinet (https://help.example.com)" in result.stdout, result.stdout
    assert (
        "  warn sign-in links cannot be mailed: sign-in links go by email, and no SMTP "
        "configured for mailbox 'support'" in result.stdout
    ), result.stdout
