"""Shared fixtures: real SQLite desks in temporary folders, a settable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
from tests.pgserver import PostgresServer, require_postgres

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock tests move by hand, so SLA and ages are exact."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer(require_postgres()).start()
    yield server
    server.stop()


# Where tests that take a ``desk`` run on both databases: the store, the core, ingest, export
# and search. The console and mail-server tests keep SQLite, which is what they exercise.
BOTH_BACKENDS = ("tests/unit/", "tests/cli/")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    path = Path(metafunc.definition.path).relative_to(Path(__file__).parent.parent).as_posix()
    both = path.startswith(BOTH_BACKENDS) and not metafunc.definition.get_closest_marker(
        "sqlite_only"
    )
    metafunc.parametrize("backend", ("sqlite", "postgresql") if both else ("sqlite",))


def new_desk_url(backend: str, request: pytest.FixtureRequest, folder: Path) -> str:
    """A new desk's database: a SQLite file in ``folder``, or one on the session's PostgreSQL."""
    if backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres")
        return server.new_url()
    return str(folder / "desk.db")


@pytest.fixture
def desk_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return new_desk_url(backend, request, tmp_path)


@pytest.fixture
def desk(desk_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Desk]:
    store = open_store(desk_url, attachments=tmp_path / "desk.db.files")
    d = Desk(store, Settings(desk_domain="desk.test"), clock=clock)
    yield d
    d.close()
