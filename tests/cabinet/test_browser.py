"""The whole cabinet in a real headless Chromium, against the desk's real services: the HTTP
service (uvicorn) and the outbox dispatcher run as ``sdesk serve`` runs them, the sign-in mail
goes out over SMTP to a local aiosmtpd server, and an agent answers from the console (Textual,
driven by Pilot) on the same desk file, as another process would.

One test, one browser start: sign in through the link the SMTP server captured, open a request
with a subject holding a ``<script>`` (shown as text, never run) and a file, see it arrive in
the console within 2 s, answer it there, see the answer in the browser, resolve it, rate it.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import OptionList

from sdesk.api.server import HttpService
from sdesk.channels.services import OutboxService
from sdesk.core.desk import Desk
from sdesk.core.enums import Role
from sdesk.store.engine import open_store
from sdesk.store.models import Event, Message, Ticket
from sdesk.store.queries import agent_row
from sdesk.tui.app import SdeskApp
from sdesk.tui.screens.desk import DeskScreen
from sdesk.tui.screens.pickers import ChoiceScreen
from sdesk.tui.widgets.inbox import InboxList
from tests.cabinet.browser import require_chromium, start_chromium
from tests.cabinet.site import SMTP_ENV, cabinet_settings, free_port
from tests.factories import email
from tests.integration.mailservers import SmtpServer
from tests.tui.conftest import running, settle

pytestmark = pytest.mark.timeout(90)

ANN = "ann@example.org"
LIVE_WITHIN = 2.0  # seconds from the customer's submit to the console showing the ticket
SUBJECT = "<script>alert('pwned')</script> Printer jams"
_LINK = re.compile(r"(http://127\.0\.0\.1:\d+/signin/\S+)")


@pytest.fixture
def served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Desk, SmtpServer, str]]:
    """``sdesk serve`` on a desk file: HTTP and the outbox, each in its service thread, with
    an SMTP server for the desk's mail. Yields the served desk, the SMTP server and the URL."""
    require_chromium()
    monkeypatch.setenv(SMTP_ENV, "unused")  # the test SMTP server asks for no login
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium's manager: never the network
    monkeypatch.setenv("SE_AVOID_STATS", "true")
    smtp = SmtpServer()
    smtp.start()
    port = free_port()
    settings = cabinet_settings(port, smtp.port)
    desk = Desk(open_store(tmp_path / "desk.db"), settings)
    desk.add_agent("dana", name="Dana Agent", role=Role.ENGINEER)
    desk.intake(email("ann-1@x", frm=ANN, name="Ann Lee", subject="Old question"))
    assert settings.http is not None
    http, outbox = HttpService(desk, settings.http), OutboxService(desk)
    stop = threading.Event()
    threads = [
        threading.Thread(target=service.run, args=(stop,), name=service.name, daemon=True)
        for service in (http, outbox)
    ]
    for thread in threads:
        thread.start()
    try:
        assert http.started.wait(10), "the HTTP server did not start listening"
        yield desk, smtp, f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)
        smtp.stop()
        desk.close()
    assert not any(t.is_alive() for t in threads), "a service did not stop"


@pytest.fixture
def chrome(tmp_path: Path, served: Any) -> Iterator[Any]:
    browser = start_chromium(tmp_path / "chromium-profile")
    try:
        yield browser
    finally:
        browser.quit()


class Customer:
    """Ann in the browser; every method blocks (run it in a thread from the async test)."""

    def __init__(self, chrome: Any, url: str) -> None:
        from selenium.webdriver.common.by import By

        self.chrome, self.url, self.by = chrome, url, By

    def find(self, css: str) -> Any:
        return self.chrome.find_element(self.by.CSS_SELECTOR, css)

    def submit(self, button: str) -> None:
        """Click a form's button and wait until the next page has replaced this one."""
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.wait import WebDriverWait

        page = self.find("html")
        self.find(button).click()
        WebDriverWait(self.chrome, 10).until(expected_conditions.staleness_of(page))
        WebDriverWait(self.chrome, 10).until(
            lambda c: c.execute_script("return document.readyState") == "complete"
        )

    def text(self, css: str) -> str:
        return str(self.find(css).text)

    def ask_link(self) -> str:
        self.chrome.get(self.url + "/")
        self.find("#email").send_keys(ANN)
        self.submit("#send-link")
        return self.text("#sent")

    def sign_in(self, link: str) -> str:
        self.chrome.get(link)
        self.submit("#confirm")
        return self.text("h1")

    def new_request(self, subject: str, text: str, file: Path) -> str:
        self.submit("#new-request")
        self.find("#subject").send_keys(subject)
        self.find("#text").send_keys(text)
        self.find("#file").send_keys(str(file))
        self.submit("#send-request")
        return str(self.chrome.current_url)

    def no_alert(self) -> bool:
        from selenium.common.exceptions import NoAlertPresentException

        try:
            self.chrome.switch_to.alert  # noqa: B018  (raises when there is none)
        except NoAlertPresentException:
            return True
        return False

    def thread(self) -> list[str]:
        self.chrome.refresh()
        return [str(e.text) for e in self.chrome.find_elements(self.by.CSS_SELECTOR, ".message")]

    def rate(self, score: int, comment: str) -> str:
        self.chrome.refresh()
        self.find(f"#score-{score}").click()
        self.find("#comment").send_keys(comment)
        self.submit("#rate")
        return self.text("#rated")


async def wait_for(
    pilot: Pilot[None], ready: Callable[[], bool], what: str, seconds: float
) -> None:
    start = time.monotonic()
    while not ready():
        assert time.monotonic() - start < seconds, f"{what}: not within {seconds} s"
        await pilot.pause(0.05)


async def choose(pilot: Pilot[None], label: str) -> None:
    """In the open picker, the first option whose label contains ``label``; Enter."""
    screen = pilot.app.screen
    assert isinstance(screen, ChoiceScreen), f"expected a picker, not {screen!r}"
    labels = [text.plain for text in screen.labels]
    index = next(i for i, text in enumerate(labels) if label in text)
    options = screen.query_one(OptionList)
    delta = index - (options.highlighted or 0)
    for _ in range(abs(delta)):
        await pilot.press("down" if delta > 0 else "up")
    await pilot.press("enter")
    await settle(pilot)


def link_in(smtp: SmtpServer) -> str:
    [mail] = smtp.wait_for(1, timeout=10)
    assert mail.rcpt_tos == (ANN,)
    assert mail.message["Auto-Submitted"] == "auto-replied"
    body = mail.message.get_body(("plain",))
    assert body is not None
    found = _LINK.search(body.get_content())
    assert found is not None, body.get_content()
    return found.group(1)


async def test_a_customer_signs_in_asks_is_answered_and_rates(
    served: tuple[Desk, SmtpServer, str], chrome: Any, tmp_path: Path
) -> None:
    desk, smtp, url = served
    ann = Customer(chrome, url)
    run = asyncio.to_thread

    assert "a sign-in link is on its way" in await run(ann.ask_link)
    link = await run(link_in, smtp)  # the dispatcher mailed it through SMTP
    assert await run(ann.sign_in, link) == "Your requests"

    console_desk = Desk(open_store(tmp_path / "desk.db"), desk.settings)  # another process
    with console_desk.store.read() as session:
        dana = agent_row(session, "dana")
    assert dana is not None
    app = SdeskApp(console_desk, dana, live=True)
    try:
        async with running(app, size=(120, 36)) as pilot:
            assert isinstance(app.screen, DeskScreen)
            inbox = app.screen.query_one(InboxList)
            photo = tmp_path / "jam.txt"
            photo.write_bytes(b"a photo of the jam, in words")
            page = await run(ann.new_request, SUBJECT, "It jams on every page.", photo)
            sent = time.monotonic()
            number = int(re.findall(r"/tickets/(\d+)", page)[0])

            await wait_for(
                pilot, lambda: number in [r.number for r in inbox.rows], "the web request", 3
            )
            assert time.monotonic() - sent <= LIVE_WITHIN
            row = next(r for r in inbox.rows if r.number == number)
            assert (row.subject, row.channel) == (SUBJECT, "web")
            # the subject is text in the browser: the same characters, no alert, no script
            assert await run(ann.text, "#subject") == SUBJECT
            assert await run(ann.no_alert)
            assert "<script>" not in await run(lambda: chrome.page_source.split("<main>")[1])

            rows = [r.number for r in inbox.rows]
            delta = rows.index(number) - inbox.cursor
            for _ in range(abs(delta)):
                await pilot.press("down" if delta > 0 else "up")
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("r", *"We sent a technician.", "ctrl+s")
            await settle(pilot)
            await pilot.press("s")
            await settle(pilot)
            await choose(pilot, "resolved")
    finally:
        console_desk.close()

    thread = await run(ann.thread)
    assert any("Dana Agent" in m and "We sent a technician." in m for m in thread), thread
    assert "jam.txt" in thread[0]
    assert "You rated this 5 of 5" in await run(ann.rate, 5, "Fast, thank you")

    def reply_state() -> str | None:
        with desk.store.read() as session:
            return session.execute(
                select(Message.delivery_state).where(Message.kind == "reply")
            ).scalar_one()

    def delivered(seconds: float = 5) -> str | None:  # the dispatcher's next pass marks it
        deadline = time.monotonic() + seconds
        while (state := reply_state()) != "sent" and time.monotonic() < deadline:
            time.sleep(0.1)
        return state

    assert await run(delivered) == "sent"
    with desk.store.read() as session:
        ticket = session.execute(select(Ticket).where(Ticket.number == number)).scalar_one()
        rated = session.execute(select(Event.data).where(Event.kind == "ticket.rated")).scalar()
    assert (ticket.channel, ticket.status, ticket.rating) == ("web", "resolved", 5)
    assert ticket.subject == SUBJECT
    assert rated is not None and "Fast, thank you" in rated and '"via": "cabinet"' in rated
