"""A real cabinet per test: a fresh desk (SQLite) served by ``HttpService`` on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sdesk.api.server import HttpService
from sdesk.core.desk import Desk
from sdesk.core.enums import Role
from sdesk.store.engine import open_store
from tests.cabinet.site import SMTP_ENV, Site, cabinet_settings, free_port
from tests.conftest import FakeClock
from tests.factories import email

ANN = "ann@example.org"
BOB = "bob@example.org"


def make_site(
    tmp_path: Path, clock: FakeClock, *, smtp_port: int = 9, public_url: str | None = None
) -> Site:
    port = free_port()
    settings = cabinet_settings(port, smtp_port, public_url=public_url)
    desk = Desk(open_store(tmp_path / "desk.db"), settings, clock=clock)
    assert settings.http is not None
    return Site(desk, f"http://127.0.0.1:{port}", HttpService(desk, settings.http)).start()


@pytest.fixture
def site(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """Two customers, Ann and Bob, each with a ticket by mail; an agent, Dana."""
    monkeypatch.setenv(SMTP_ENV, "unused")
    s = make_site(tmp_path, clock)
    s.desk.add_agent("dana", name="Dana Agent", role=Role.ENGINEER)
    s.desk.intake(email("ann-1@x", frm=ANN, name="Ann Lee", subject="Printer on fire"))
    s.desk.intake(email("bob-1@x", frm=BOB, name="Bob Roe", subject="Bob's secret invoice"))
    try:
        yield s
    finally:
        s.close()
        s.desk.close()
