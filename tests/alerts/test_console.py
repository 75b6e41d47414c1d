"""In the console: a fast alert for me raises a toast and the bell; ``!`` opens the alerts view
(who was told how and when, on call now and next) and ``a`` acknowledges (recorded
"console"). A real desk, the real app under Pilot."""

from __future__ import annotations

import asyncio
import time

from textual.widgets import OptionList, Static

from sdesk.core.alerts import signal
from sdesk.store.queries import agent_row
from sdesk.tui.app import SdeskApp
from sdesk.tui.screens.alerts import AlertsScreen
from tests.alerts.conftest import MakeDesk, alerts_of, runtime
from tests.conftest import FakeClock
from tests.tui.conftest import running, settle

RULE = {"name": "down", "event": "channel.down", "tier": "fast", "targets": ["team"]}


def test_toast_bell_view_and_acknowledge(make_desk: MakeDesk) -> None:
    desk = make_desk(rules=[RULE])
    rt = runtime(desk)
    with desk.store.read() as session:
        me = agent_row(session, "alice")
    assert me is not None
    app = SdeskApp(desk, me, live=True)
    bells: list[float] = []
    app.bell = lambda: bells.append(time.monotonic())  # type: ignore[method-assign]

    async def drive() -> None:
        async with running(app, size=(100, 30)) as pilot:
            signal(desk, "channel.down", key="core", text="core [b]switch[/b] down")
            rt.tail()
            deadline = time.monotonic() + 10
            while not bells and time.monotonic() < deadline:  # the next poll (1 s) shows it
                await pilot.pause(0.05)
            assert bells, "no bell for the alert"
            toasts = [n.message for n in app._notifications]
            assert any("core [b]switch[/b] down" in str(m) for m in toasts), toasts

            await pilot.press("exclamation_mark")
            for _ in range(100):
                if isinstance(app.screen, AlertsScreen) and app.screen.loaded:
                    break
                await pilot.pause(0.05)
            screen = app.screen
            assert isinstance(screen, AlertsScreen)
            shown = str(screen.query_one(OptionList).get_option_at_index(0).prompt)
            assert "core [b]switch[/b] down" in shown and "alice by push: sent" in shown
            assert "primary: now alice" in str(screen.query_one("#alerts-oncall", Static).content)
            await pilot.press("a")
            await settle(pilot)
            for _ in range(100):
                if alerts_of(desk)[0].state != "active":
                    break
                await pilot.pause(0.05)

    asyncio.run(drive())
    [alert] = alerts_of(desk)
    assert (alert.state, alert.acked_by, alert.acked_how) == ("acknowledged", "alice", "console")


def test_an_escalating_tickets_row_shows_the_time_to_its_next_step(
    make_desk: MakeDesk, clock: FakeClock
) -> None:
    from sdesk.core.enums import Priority
    from sdesk.tui.widgets.inbox import InboxList
    from tests.alerts.conftest import ticket

    rule = {"name": "hot", "event": "ticket.created", "tier": "fast", "targets": ["team"],
            "escalation": "page"}  # fmt: skip
    desk = make_desk(rules=[rule])
    rt = runtime(desk)
    number = ticket(desk, priority=Priority.URGENT, subject="Core switch down")
    rt.tail()  # step 1 taken; the next in 5 minutes
    clock.advance(minutes=1)
    with desk.store.read() as session:
        me = agent_row(session, "alice")
    assert me is not None
    app = SdeskApp(desk, me, live=True)

    async def drive() -> str:
        async with running(app, size=(120, 30)) as pilot:
            inbox = app.screen.query_one(InboxList)
            deadline = time.monotonic() + 10
            while number not in inbox.escalations and time.monotonic() < deadline:
                await pilot.pause(0.05)  # the next poll (1 s) brings it
            await settle(pilot)
            index = next(i for i, r in enumerate(inbox.rows) if r.number == number)
            return inbox.render_line(index - int(inbox.scroll_y)).text

    line = asyncio.run(drive())
    assert f"#{number}" in line and "⇡4m" in line, line
