"""A long reply goes out in parts; each part Telegram took is recorded on its outbox row, so a
send cut short — a failure, or the dispatcher's process SIGKILLed while it waits on the next
part — goes on from that part after a restart and the customer never gets a part twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from sdesk.channels.services import OutboxService
from sdesk.channels.telegram.sender import split_text
from sdesk.config import Settings
from sdesk.core.clock import utcnow
from sdesk.core.desk import Desk
from sdesk.core.outbox import STALE_SENDING
from sdesk.store.engine import open_store
from sdesk.store.models import Outbox
from tests.telegram.botapi import BotApiServer
from tests.telegram.conftest import TOKEN_ENV, fetch, messages, telegram_settings, tickets
from tests.telegram.test_exactly_once import Serve, wait_for
from tests.telegram.updates import Updates

pytestmark = pytest.mark.timeout(120)

LINE = "y" * 99
TEXT = "\n".join(f"{n:03d}{LINE}" for n in range(110))  # 11,439 characters: three parts


def _row(desk: Desk) -> Outbox:
    with desk.store.read() as s:
        [row] = [r for r in s.execute(select(Outbox)).scalars() if r.kind == "reply"]
        s.expunge(row)
        return row


def _texts(server: BotApiServer) -> list[str]:
    return [str(s.params["text"]) for s in server.sent if s.method == "sendMessage"]


def _reply_waiting(desk: Desk, server: BotApiServer, tg: Updates) -> list[str]:
    """A ticket from a customer and the agent's long reply to it, queued; its parts."""
    ann = tg.customer(1)
    server.push(tg.text(ann, "tell me everything"))
    assert fetch(desk).outcome == "done"
    desk.reply(tickets(desk)[0].number, "eli", TEXT)
    parts = split_text(TEXT)
    assert len(parts) == 3
    return parts


def test_a_new_dispatcher_after_a_failure_midway_sends_only_the_rest(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    desk.settings.telegram.acknowledge = False  # type: ignore[union-attr]
    parts = _reply_waiting(desk, server, tg)
    server.delay("sendMessage", 0)  # the first part goes
    server.fail("sendMessage", status=502, description="Bad Gateway")  # the second does not
    first = OutboxService(desk).run_once()
    assert first is not None and "to retry 1" in first.line
    row = _row(desk)
    assert (row.state, row.parts_sent) == ("queued", 1)
    assert row.sent_ref == f"tg:{tg.customer(1).id}:{server.sent[0].answer['message_id']}"
    with desk.store.write() as s:  # the backoff's wait, skipped
        for r in s.execute(select(Outbox)).scalars():
            r.next_attempt_at = desk.clock() - timedelta(seconds=1)
    second = OutboxService(desk).run_once()  # a fresh dispatcher: nothing kept in memory
    assert second is not None and "sent 1" in second.line
    assert _texts(server) == parts  # each part once, in order
    [reply] = [m for m in messages(desk) if m.kind == "reply"]
    assert reply.delivery_state == "sent"
    assert reply.message_id == f"tg:{tg.customer(1).id}:{server.sent[-1].answer['message_id']}"


@pytest.fixture
def served_desk(
    tmp_path: Path, server: BotApiServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, Path, Desk]]:
    monkeypatch.setenv(TOKEN_ENV, server.token)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken_env = "{TOKEN_ENV}"\nbase_url = "{server.root_url}"\n'
        "poll_timeout_seconds = 1\nacknowledge = false\n",
        encoding="utf-8",
    )
    db = tmp_path / "desk.db"
    settings = Settings(telegram=telegram_settings(server, acknowledge=False))
    desk = Desk(open_store(db), settings)
    desk.add_agent("eli", name="Eli")
    try:
        yield db, config, desk
    finally:
        desk.close()


def test_sdesk_serve_killed_while_a_part_is_under_way_resumes_from_that_part(
    served_desk: tuple[Path, Path, Desk], server: BotApiServer, tg: Updates
) -> None:
    db, config, desk = served_desk
    parts = _reply_waiting(desk, server, tg)
    server.delay("sendMessage", 0)  # the first part goes
    # The second is held (and would then fail): the process is killed while it waits.
    server.fail("sendMessage", status=502, description="Bad Gateway", delay=60)
    serve = Serve(db, config, server.token)
    try:
        wait_for(lambda: _row(desk).parts_sent == 1, "the first part recorded")
        wait_for(
            lambda: sum(1 for m, _ in list(server.calls) if m == "sendMessage") >= 2,
            "the second part under way",
        )
    finally:
        serve.kill()
    assert _texts(server) == parts[:1]
    row = _row(desk)
    assert (row.state, row.parts_sent) == ("sending", 1)  # left by the killed dispatcher
    # The restart: a "sending" row whose dispatcher is gone is taken again once stale.
    later = Desk(desk.store, desk.settings, clock=lambda: utcnow() + STALE_SENDING * 2)
    result = OutboxService(later).run_once()
    assert result is not None and "sent 1" in result.line, result.line
    assert _texts(server) == parts  # the first part was not sent again
    row = _row(desk)
    assert (row.state, row.parts_sent) == ("sent", 3)
    [reply] = [m for m in messages(desk) if m.kind == "reply"]
    assert reply.delivery_state == "sent"
    assert reply.message_id == f"tg:{tg.customer(1).id}:{server.sent[-1].answer['message_id']}"
