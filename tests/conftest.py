"""Shared fixtures: real SQLite desks in temporary folders, a settable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store

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


@pytest.fixture
def desk(tmp_path: Path, clock: FakeClock) -> Iterator[Desk]:
    d = Desk(open_store(tmp_path / "desk.db"), Settings(desk_domain="desk.test"), clock=clock)
    yield d
    d.close()
