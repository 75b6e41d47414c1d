"""Every hostile or broken message goes through the whole ingest path — parse, intake, store —
and is ingested or quarantined, never crashing, within 2 s; the desk renders it afterwards."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, select

from sdesk.channels.files.importer import ingest
from sdesk.cli.render import print_ticket
from sdesk.core.desk import Desk
from sdesk.store.models import Message, RawInbound
from sdesk.store.queries import ticket_detail
from tests.corpus.hostile import hostile_messages

CASES = hostile_messages()


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize(("name", "raw"), CASES, ids=[name for name, _ in CASES])
def test_hostile_message_is_ingested_or_quarantined(
    name: str, raw: bytes, desk: Desk, tmp_path: Path
) -> None:
    path = tmp_path / f"{name}.eml"
    path.write_bytes(raw)
    started = time.monotonic()
    summary = ingest(desk, [path])
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"{name} took {elapsed:.2f}s"
    assert summary.failed == [], summary.failed
    assert summary.created + summary.appended + summary.quarantined == 1
    with desk.store.read() as s:
        stored = s.execute(select(func.count()).select_from(RawInbound)).scalar_one()
        number = s.execute(select(func.max(Message.ticket_id))).scalar()
    assert stored == 1  # the raw bytes are kept either way
    if summary.quarantined:
        return
    with desk.store.read() as s:
        detail = ticket_detail(s, 1001)
    assert detail is not None and number is not None
    console = Console(record=True, width=100, color_system=None)
    print_ticket(console, detail, desk.clock())
    assert "\x1b" not in console.export_text()
    again = ingest(desk, [path])
    assert again.duplicates == 1
