"""Files off the poll-and-store path (``channels/telegram/files.py``): a message is stored with
its file pending and the file attached when it arrives, by the fetcher beside the poller; a
download cut short by a stop stays pending and the next run fetches it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import select

from sdesk.channels.telegram.service import TelegramService
from sdesk.core.desk import Desk
from sdesk.store.models import TelegramFile
from tests.telegram.botapi import BotApiServer
from tests.telegram.conftest import attachments, fetch, inbound
from tests.telegram.updates import Updates


def _until(what: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)


@contextmanager
def _serving(desk: Desk) -> Iterator[None]:
    """``TelegramService.run`` on a thread, as ``sdesk serve`` runs it; stopped at the end."""
    assert desk.settings.telegram is not None
    service = TelegramService(desk, desk.settings.telegram)
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)
        assert not thread.is_alive()


def _files(desk: Desk) -> list[TelegramFile]:
    with desk.store.read() as s:
        rows = list(s.execute(select(TelegramFile).order_by(TelegramFile.id)).scalars())
        s.expunge_all()
        return rows


def test_a_file_arrives_after_its_message(desk: Desk, server: BotApiServer, tg: Updates) -> None:
    ann = tg.customer(1)
    server.delay("getFile", 3)  # the download waits; the messages do not
    server.push_many([tg.document(ann, file_name="scan.pdf", caption="scan"), tg.text(ann, "ok")])
    with _serving(desk):
        _until(lambda: len(inbound(desk)) == 2)
        first = inbound(desk)[0]
        assert first.text == "scan" and "file scan.pdf arriving…" in first.notes
        assert attachments(desk, first.id) == []
        assert [f.state for f in _files(desk)] == ["pending"]
        _until(lambda: len(attachments(desk, first.id)) == 1)
    [message] = [m for m in inbound(desk) if m.id == first.id]
    [att] = attachments(desk, message.id)
    assert att.filename == "scan.pdf"
    assert "file scan.pdf fetched" in message.notes
    assert [f.state for f in _files(desk)] == ["done"]
    assert [c for c, _ in server.calls].count("getFile") == 1


def test_a_download_cut_short_by_a_stop_is_fetched_by_the_next_run(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    ann = tg.customer(1)
    server.delay("getFile", 4)  # under the client's 5 s timeout: the stop comes first
    server.push(tg.photo(ann, caption="the screen"))
    with _serving(desk):
        _until(lambda: any(c == "getFile" for c, _ in server.calls))
    # Stopped mid-download: the message is stored, its file still pending, no try counted.
    [message] = inbound(desk)
    assert attachments(desk, message.id) == []
    [row] = _files(desk)
    assert row.state == "pending" and row.attempts == 0
    # A restart: a new service (``sdesk fetch``'s pass) takes the file, and nothing twice.
    result = fetch(desk)
    assert "updates 0" in result.line and "late files 1" in result.line, result.line
    assert len(attachments(desk, message.id)) == 1
    assert [f.state for f in _files(desk)] == ["done"]
    assert len(inbound(desk)) == 1
