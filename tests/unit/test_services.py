"""The services' supervisor with real threads and a real desk: a crash is logged by name,
recorded where the console and ``sdesk doctor`` read health, and restarted after the backoff;
a stop is waited for; the outbox dispatcher stopped between claim and send leaves no row
"sending"."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from sqlalchemy import select

from sdesk.channels.dispatcher import Dispatcher
from sdesk.channels.services import Service, Supervisor
from sdesk.cli.console import Background
from sdesk.config import MailboxSettings, Settings
from sdesk.core import health
from sdesk.core.desk import Desk
from sdesk.store.models import Message, Outbox
from tests.factories import email

BACKOFF = (0.2, 0.4, 5.0)  # small, so the test shows it; the third is never reached


class Flaky(Service):
    """Crashes on its first two runs, then works (recording its health) until stopped."""

    name = "flaky"

    def __init__(self, desk: Desk, crashes: int = 2) -> None:
        self.crashes_left = crashes
        self.started: list[float] = []  # monotonic time of each run
        self.health = health.HealthRecorder(desk, health.service_key(self.name), "test")
        self.running = threading.Event()
        self.stopped_cleanly = False

    def run(self, stop: threading.Event) -> None:
        self.started.append(time.monotonic())
        if self.crashes_left:
            self.crashes_left -= 1
            raise RuntimeError(f"boom {2 - self.crashes_left}\nsecond line never logged")
        self.health.connected()
        self.running.set()
        stop.wait()
        self.stopped_cleanly = True

    def crashed(self, message: str) -> None:
        self.health.failed(message)


def states(desk: Desk) -> dict[str, health.MailboxStatus]:
    with desk.store.read() as session:
        return {s.name: s for s in health.mailbox_status(session, [], desk.clock())}


@pytest.mark.sqlite_only
def test_a_crashed_service_is_logged_recorded_and_restarted_with_backoff(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = Flaky(desk)
    seen_error: list[str | None] = []
    flaky_crashed = flaky.crashed

    def crashed(message: str) -> None:  # what the row says right after the crash
        flaky_crashed(message)
        seen_error.append(states(desk)["service:flaky"].state)

    flaky.crashed = crashed  # type: ignore[method-assign]
    supervisor = Supervisor([flaky], backoff=BACKOFF)
    with caplog.at_level(logging.ERROR, logger="sdesk.channels.services"):
        supervisor.start()
        assert flaky.running.wait(10), "the service never ran after two crashes"
    assert supervisor.crashes["flaky"] == 2
    first, second, third = flaky.started
    assert second - first >= BACKOFF[0] and third - second >= BACKOFF[1]  # capped schedule
    assert third - second < BACKOFF[2]
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert lines == [
        "service flaky crashed: RuntimeError: boom 1; restarting in 0.2s",
        "service flaky crashed: RuntimeError: boom 2; restarting in 0.4s",
    ]
    assert seen_error == ["error", "error"]  # the ⚠ mark and doctor read this row
    now = states(desk)["service:flaky"]
    assert now.state == "connected"  # running again
    assert now.last_error == "crashed: RuntimeError: boom 2"

    assert supervisor.stop(5) == []
    assert flaky.stopped_cleanly


@pytest.mark.sqlite_only
def test_a_steady_run_starts_the_backoff_again(desk: Desk) -> None:
    class Twice(Service):
        name = "twice"
        runs = 0

        def run(self, stop: threading.Event) -> None:
            self.runs += 1
            if self.runs <= 3:
                time.sleep(0.3)  # "steady" for this supervisor: the count starts again
                raise ValueError("again")
            stop.wait()

    service = Twice()
    supervisor = Supervisor([service], backoff=(0.05, 30.0), steady_after=0.2)
    supervisor.start()
    deadline = time.monotonic() + 5
    while service.runs < 4:  # each restart waited 0.05 s, never the 30 s second step
        assert time.monotonic() < deadline, f"only {service.runs} runs"
        time.sleep(0.02)
    assert supervisor.stop(5) == []


def test_stop_waits_for_a_service_to_finish_its_work_and_names_one_that_does_not() -> None:
    finished = threading.Event()

    class Slow(Service):
        name = "slow"

        def run(self, stop: threading.Event) -> None:
            stop.wait()
            time.sleep(0.3)  # the send under way
            finished.set()

    class Stuck(Service):
        name = "stuck"

        def run(self, stop: threading.Event) -> None:
            time.sleep(3)

    supervisor = Supervisor([Slow(), Stuck()])
    supervisor.start()
    assert supervisor.stop(1.0) == ["stuck"]
    assert finished.is_set()


def test_background_stopped_before_it_was_built_starts_nothing() -> None:
    built = threading.Event()
    release = threading.Event()

    class Never(Service):
        name = "never"

        def run(self, stop: threading.Event) -> None:  # pragma: no cover - must not run
            raise AssertionError("started after stop")

    def build() -> list[Service]:
        built.set()
        release.wait(5)
        return [Never()]

    background = Background(build)
    background.start()
    assert built.wait(5)
    background.stop()  # the console closed while the mail modules were still importing
    release.set()
    assert background.wait(5) == []
    assert background.supervisor is None


def test_the_dispatcher_stopped_mid_pass_sends_the_one_under_way_and_requeues_the_rest(
    desk: Desk,
) -> None:
    desk.add_agent("eli", name="Eli")
    for n in range(3):
        desk.intake(email(f"m{n}@x", frm=f"c{n}@example.org", subject=f"Case {n}"))
    for number in (1001, 1002, 1003):
        desk.reply(number, "eli", "On it.")
    stop = threading.Event()
    sent: list[str] = []

    def send(recipient: str, payload: dict) -> tuple[str, bool]:  # type: ignore[type-arg]
        stop.set()  # SIGTERM arrives while the first one is on the wire
        sent.append(recipient)
        return "", False

    dispatcher = Dispatcher(desk, {"email": send})
    assert dispatcher.run_once(stop) == 1
    assert sent == ["c0@example.org"]
    with desk.store.read() as s:
        rows = s.execute(select(Outbox.state, Outbox.attempts).order_by(Outbox.id)).all()
        messages = s.execute(
            select(Message.delivery_state).where(Message.kind == "reply").order_by(Message.id)
        ).scalars()
        assert [tuple(r) for r in rows] == [("sent", 1), ("queued", 0), ("queued", 0)]
        assert list(messages) == ["sent", "queued", "queued"]
    # The next dispatcher sends the other two, each once.
    assert Dispatcher(desk, {"email": lambda r, p: sent.append(r) or ("", False)}).run_once() == 2
    assert sent == ["c0@example.org", "c1@example.org", "c2@example.org"]


@pytest.mark.sqlite_only
def test_the_cli_gives_the_console_services_only_for_a_desk_with_mailboxes(desk: Desk) -> None:
    """``sdesk demo`` passes ``services=False``: a throwaway desk never fetches (nor flags or
    moves) the configured mailboxes' real mail, nor sends from them."""
    from sdesk.cli.console import console_app
    from sdesk.store.queries import agent_row

    desk.add_agent("eli", name="Eli")
    with desk.store.read() as s:
        me = agent_row(s, "eli")
    assert me is not None
    assert console_app(desk, me)[1] is None  # no mailboxes: nothing to run
    box = MailboxSettings(
        name="support", host="127.0.0.1", security="none", username="u",
        password_env="UNSET", address="support@desk.test",
    )  # fmt: skip
    with_mail = Desk(desk.store, Settings(desk_domain="desk.test", mailboxes=[box]))
    app, background = console_app(with_mail, me)
    assert background is not None and app.services is background
    assert background.supervisor is None  # nothing built before the console's first paint
    app, background = console_app(with_mail, me, services=False)
    assert background is None and app.services is None
