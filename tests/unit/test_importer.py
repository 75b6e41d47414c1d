"""The importer's two shapes — parse in-process, or in a second process — store the same desk."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from sdesk.channels.files.importer import ingest
from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
from sdesk.store.models import Message, Ticket
from tests.corpus.bulk import write_mbox
from tests.corpus.hostile import hostile_messages


def snapshot(desk: Desk) -> list[tuple[int, str, str]]:
    with desk.store.read() as s:
        rows = s.execute(
            select(Ticket.number, Message.external_id, Message.text)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .order_by(Message.id)
        )
        return [tuple(r) for r in rows]


def test_parallel_and_serial_ingest_store_the_same(tmp_path: Path) -> None:
    corpus = tmp_path / "in"
    corpus.mkdir()
    write_mbox(corpus / "bulk.mbox", 700)
    for name, raw in hostile_messages()[:12]:
        (corpus / f"{name}.eml").write_bytes(raw)
    (corpus / "notes.txt").write_text("Not a message.\n")
    results = []
    for mode in (False, True):
        desk = Desk(open_store(tmp_path / f"{mode}.db"), Settings())
        summary = ingest(desk, [corpus], parallel=mode, batch_size=97)
        counts = (summary.created, summary.appended, summary.quarantined, summary.skipped)
        results.append((*counts, snapshot(desk)))
        assert summary.seen == 700 + 12 + 1  # every message and the stray file, accounted for
        again = ingest(desk, [corpus], parallel=mode)
        assert again.created == again.appended == 0
        assert again.seen == summary.seen
        desk.close()
    assert results[0] == results[1]
    assert results[0][0] > 100
    assert results[0][3] == [(str(corpus / "notes.txt"), "not a mail, mbox or JSON Lines file")]
