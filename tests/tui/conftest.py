"""Console tests: the real app on a real SQLite desk, driven by Textual's Pilot.

The desk is the demo week, seeded at a fixed moment with a frozen clock, so ages, SLA countdowns
and snapshots never move. Times are shown in the operator's zone; tests pin it to UTC.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot

from sdesk.config import Settings, TelephonySettings
from sdesk.config_notify import NotifySettings
from sdesk.core.desk import Desk
from sdesk.demo import seed_demo
from sdesk.store.engine import open_store
from sdesk.store.queries import agent_row
from sdesk.tui.app import SdeskApp
from tests.conftest import FakeClock

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SEEDED: dict[str, Path] = {}


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo desk is built once per session and copied for each test (seeding takes ~1 s)."""
    if "demo" not in SEEDED:
        folder = tmp_path_factory.mktemp("demo-seed")
        desk = Desk(
            open_store(folder / "desk.db"),
            # Seeded without customer notices, so the snapshots show the console as before
            # them (notices are tested in tests/notify).
            Settings(
                desk_domain="desk.test",
                notify=NotifySettings(resolved=False, closed=False, arrival=False),
            ),
            clock=FakeClock(NOW),
        )
        seed_demo(desk, now=NOW, seed=7, operator="root")
        desk.close()
        SEEDED["demo"] = folder
    return SEEDED["demo"]


@pytest.fixture
def demo_path(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    source = _seeded(tmp_path_factory)
    target = tmp_path / "demo"
    shutil.copytree(source, target)
    return target / "desk.db"


def make_desk(path: Path, clock: FakeClock | None = None, **settings: object) -> Desk:
    defaults: dict[str, object] = {"desk_domain": "desk.test"}
    defaults.update(settings)
    return Desk(open_store(path), Settings(**defaults), clock=clock or FakeClock(NOW))  # type: ignore[arg-type]


@pytest.fixture
def demo_desk(demo_path: Path) -> Iterator[Desk]:
    desk = make_desk(
        demo_path, telephony=TelephonySettings(provider="twilio", from_number="+15550100")
    )
    yield desk
    desk.close()


AppFactory = Callable[..., SdeskApp]


@pytest.fixture
def make_app() -> AppFactory:
    def build(desk: Desk, login: str = "mia.chen", *, live: bool = True) -> SdeskApp:
        with desk.store.read() as session:
            me = agent_row(session, login)
        assert me is not None, login
        return SdeskApp(desk, me, live=live)

    return build


async def settle(pilot: Pilot[None], seconds: float = 5.0) -> None:
    """Wait until every worker is done and the screen has caught up (bounded)."""
    app = pilot.app
    deadline = time.monotonic() + seconds
    await pilot.pause()
    while time.monotonic() < deadline:
        busy = [w for w in app.workers if w.is_running and w.group not in ("poll", "heartbeat")]
        if not busy:
            break
        await pilot.pause(0.02)
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()


@asynccontextmanager
async def running(app: SdeskApp, size: tuple[int, int] = (80, 24)) -> AsyncIterator[Pilot[None]]:
    async with app.run_test(size=size) as pilot:
        deadline = time.monotonic() + 10
        while app.first_paint is None and time.monotonic() < deadline:
            await pilot.pause(0.02)
        assert app.first_paint is not None, "the inbox never painted"
        await settle(pilot)
        yield pilot


os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
