"""``sdesk export``: desk A → export → ingest into empty desk B gives the same tickets."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.core.enums import AutoKind, Channel, ContactKind, Priority, Role, Status
from sdesk.core.inbound import ContactRef, Inbound, InboundAttachment, Sender
from sdesk.store.engine import open_store
from tests.cli.conftest import Run
from tests.conftest import FakeClock
from tests.factories import chat, email

AGENTS = (("dana", Role.DISPATCHER), ("eli", Role.ENGINEER))


def build_desk_a(path: Path) -> None:
    clock = FakeClock()
    desk = Desk(open_store(path), Settings(desk_domain="a.test"), clock=clock)
    for login, role in AGENTS:
        desk.add_agent(login, role=role)
    shot = InboundAttachment(
        "screen.png", "image/png", b"\x89PNG fake", inline=True, content_id="img1"
    )
    desk.intake(
        Inbound(
            channel=Channel.EMAIL,
            sender=Sender("Ann Lee", (ContactRef(ContactKind.EMAIL, "ann@example.org"),)),
            subject='=HYPERLINK("x") router',
            text="See the screenshot",
            external_id="r1@x",
            message_id="r1@x",
            attachments=(shot,),
        )
    )
    clock.advance(minutes=5)
    desk.intake(email("r2@x", references=("r1@x",), text="Also the lights blink"))
    clock.advance(minutes=5)
    desk.reply(1001, "dana", "Please power-cycle it.")
    desk.add_note(1001, "eli", "Known firmware bug.")
    desk.assign(1001, "dana", "eli")
    desk.set_priority(1001, "dana", Priority.HIGH)
    tg = ContactRef(ContactKind.TELEGRAM, "4242")
    desk.intake(
        chat(
            Channel.TELEGRAM, "tg-1", "привет", tg, ContactRef(ContactKind.EMAIL, "ann@example.org")
        )
    )
    desk.intake(
        chat(
            Channel.PHONE,
            "call-1",
            "Inbound call, 2 min",
            ContactRef(ContactKind.PHONE, "+14155550123"),
        )
    )
    desk.intake(
        email("ooo@x", frm="bob@example.com", subject="Auto: away", auto=AutoKind.AUTO_REPLY)
    )
    desk.intake(email("dup@x", frm="ann@example.org", subject="Router again"))
    desk.merge(1005, 1001, "dana")
    clock.advance(hours=1)
    desk.set_status(1002, "dana", Status.RESOLVED)
    desk.set_status(1003, "dana", Status.CLOSED)
    desk.close()


def test_export_then_ingest_gives_the_same_tickets(sdesk: Run, tmp_path: Path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    build_desk_a(a)
    out_a, out_b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert sdesk("--db", str(a), "export", "-o", str(out_a)).returncode == 0
    desk_b = Desk(open_store(b), Settings(desk_domain="b.test"))
    for login, role in AGENTS:
        desk_b.add_agent(login, role=role)
    desk_b.close()
    ingest = sdesk("--db", str(b), "ingest", str(out_a))
    assert ingest.returncode == 0, ingest.stderr
    assert "4 tickets created" in ingest.stdout
    assert sdesk("--db", str(b), "export", "-o", str(out_b)).returncode == 0
    tickets_a = [json.loads(x) for x in out_a.read_text().splitlines()]
    tickets_b = [json.loads(x) for x in out_b.read_text().splitlines()]
    assert tickets_b == tickets_a
    first = tickets_a[0]
    assert [m["kind"] for m in first["messages"]] == [
        "inbound",
        "inbound",
        "reply",
        "note",
        "inbound",
        "system",
    ]
    assert first["assignee"] == "eli" and first["priority"] == "high"
    assert first["messages"][0]["attachments"][0]["filename"] == "screen.png"
    again = sdesk("--db", str(b), "ingest", str(out_a))
    assert "0 tickets created, 0 messages appended, 4 duplicates skipped" in again.stdout


def test_csv_export_and_since(sdesk: Run, tmp_path: Path) -> None:
    a = tmp_path / "a.db"
    build_desk_a(a)
    result = sdesk("--db", str(a), "export", "--format", "csv")
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert rows and {r["ticket"] for r in rows} == {"1001", "1002", "1003", "1004"}
    assert all(r["subject"].startswith("'=") for r in rows if r["ticket"] == "1001")
    later = sdesk("--db", str(a), "export", "--since", "2026-11-02T10:00:00Z")
    assert [json.loads(x)["number"] for x in later.stdout.splitlines()] == [1002, 1003]


HOSTILE = (
    "\x1b]52;c;SGVsbG8=\x07 \x9b31m \x9d \u202eevil \u200bzw \u2066iso\u2069 \ufeff \u2028 \u061c"
)


def test_jsonl_escapes_invisible_controls_and_ingest_reads_them_back(
    sdesk: Run, tmp_path: Path
) -> None:
    """To a file (or pipe) the data is exact, but C1, bidi and zero-width characters are
    written as \\uXXXX: a ``cat`` of the file cannot be steered by them."""
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    desk = Desk(open_store(a), Settings(desk_domain="a.test"))
    desk.intake(email("h@x", name=f"Mal {HOSTILE}", subject=f"S {HOSTILE}", text=f"T {HOSTILE}"))
    desk.close()
    out = tmp_path / "a.jsonl"
    assert sdesk("--db", str(a), "export", "-o", str(out)).returncode == 0
    raw = out.read_text(encoding="utf-8")
    assert not any(c in raw for c in "\x1b\x9b\x9d\u202e\u200b\u2066\u2069\ufeff\u2028\u061c")
    for escaped in ("\\u001b]52", "\\u009b31m", "\\u009d", "\\u202eevil", "\\u200bzw", "\\u2028"):
        assert escaped in raw
    ticket = json.loads(raw)
    assert ticket["subject"] == f"S {HOSTILE}"  # the same string, exactly
    assert ticket["customer"]["name"] == f"Mal {HOSTILE}"
    Desk(open_store(b), Settings(desk_domain="b.test")).close()
    assert sdesk("--db", str(b), "ingest", str(out)).returncode == 0
    again = tmp_path / "b.jsonl"
    assert sdesk("--db", str(b), "export", "-o", str(again)).returncode == 0
    assert json.loads(again.read_text(encoding="utf-8"))["messages"][0]["text"] == f"T {HOSTILE}"


def test_csv_to_a_pipe_is_the_data_exactly(sdesk: Run, tmp_path: Path) -> None:
    """Neutralising is for terminals (tests/smoke/test_pty_hostile.py); a pipe gets the bytes."""
    a = tmp_path / "a.db"
    desk = Desk(open_store(a), Settings(desk_domain="a.test"))
    desk.intake(email("h@x", subject=f"S {HOSTILE}", text=f"T {HOSTILE}"))
    desk.close()
    result = sdesk("--db", str(a), "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert [(r["subject"], r["text"]) for r in rows] == [(f"S {HOSTILE}", f"T {HOSTILE}")]
