"""A throwaway PostgreSQL cluster for the store tests that must prove PostgreSQL.

One cluster per test session, in a temporary folder, on a free loopback port, with durability off
(the tests need correctness, not crash safety of the test database); each test gets a database
of its own. Without PostgreSQL installed the tests that need it are skipped on a developer's
machine (the reason printed) and fail when ``CI`` is set: ``scripts/test`` installs it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from itertools import count
from pathlib import Path

import pytest

LOCALHOST = "127.0.0.1"
START_TIMEOUT = 30.0
_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class PostgresError(RuntimeError):
    """The test cluster could not be made or started."""


def _bindir() -> Path | None:
    """Debian keeps initdb and pg_ctl out of PATH, in one folder per major version."""
    for found in sorted(glob.glob(_BIN_GLOB), key=lambda p: int(Path(p).parent.name), reverse=True):
        if (Path(found) / "initdb").exists():
            return Path(found)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOCALHOST, 0))
        return int(s.getsockname()[1])


def _is_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_postgres() -> Path:
    """The server's bin folder and the driver, or a skip (fail in CI) saying what is missing."""
    bindir = _bindir()
    why = ""
    if bindir is None:
        why = "PostgreSQL is not installed (apt-get install postgresql; scripts/test does it)"
    else:
        try:
            import psycopg  # noqa: F401 - only its presence is checked here
        except ImportError:
            why = "psycopg is not installed (pip install '.[postgres]')"
    if why:
        if _is_ci():
            pytest.fail(why)
        print(f"skipping: {why}")
        pytest.skip(why)
    assert bindir is not None
    return bindir


class PostgresServer:
    """``start()`` makes and runs the cluster, ``new_url()`` a fresh database, ``stop()`` all."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="sdesk-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._names = count(1)
        self._user: str | None = None
        self._template: str | None = None
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            self._user = "postgres"
            pw = pwd.getpwnam(self._user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._user is not None:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=START_TIMEOUT)
        if done.returncode != 0:
            raise PostgresError(f"{args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> PostgresServer:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "sdesk",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses={LOCALHOST} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            str(int(START_TIMEOUT)),
            "start",
        )
        return self

    def admin_url(self) -> str:
        return f"postgresql+psycopg://sdesk@{LOCALHOST}:{self.port}/postgres"

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://sdesk@{LOCALHOST}:{self.port}/{name}"

    def create(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of ``template`` when given); its URL."""
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT
        clause = f' TEMPLATE "{template}"' if template else ""
        while True:
            try:
                with psycopg.connect(
                    f"host={LOCALHOST} port={self.port} user=sdesk dbname=postgres",
                    autocommit=True,
                    connect_timeout=5,
                ) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"{clause}')
                return self.url(name)
            except psycopg.OperationalError:
                # Just started, or the template still has a connection closing: brief.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def new_url(self) -> str:
        """A fresh database with the desk's schema: a copy of a template migrated once, since
        running the migrations costs ten times the copy."""
        if self._template is None:
            from sdesk.store.engine import open_store

            url = self.create("desk_template")
            store = open_store(url, attachments=self.root / "template.files")
            store.dispose()
            self._template = "desk_template"
        return self.create(f"desk{next(self._names)}", self._template)

    def stop(self) -> None:
        with contextlib.suppress(PostgresError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
