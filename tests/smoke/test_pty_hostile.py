"""Hostile customer text against a real terminal: every byte the console and the CLI write to a
pseudo-terminal is read back and searched for the customer's escape sequences and controls.

A ticket whose subject, sender, text and attachment name carry OSC 52 (set the clipboard),
OSC 2 (retitle the window), CSI 2J (clear the screen), an OSC 8 link, raw C1 controls, a
right-to-left override and a zero-width space arrives while the console is open; the test
waits for its toast, then walks every screen that shows it. ARCHITECTURE.md rule 8.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind, Priority, Role
from sdesk.core.inbound import ContactRef, Inbound, InboundAttachment, Sender
from sdesk.core.text import safe_text
from sdesk.store.engine import open_store
from tests.smoke.ptyterm import Pty, decode, sdesk_env

pytestmark = pytest.mark.timeout(90)

WORD = "Zebrafox"  # a plain word of the hostile subject: proof the ticket really arrived
HOSTILE = (
    "\x1b]52;c;SGVsbG8=\x07"  # OSC 52: write the clipboard
    "\x1b]2;pwned\x07"  # OSC 2: the window title
    "\x1b[2J"  # CSI: clear the screen
    "\x1b]8;;http://evil.invalid\x1b\\link\x1b]8;;\x1b\\"  # OSC 8: a hyperlink
    "\x9b31m"  # C1 CSI: red
    "\x9d"  # C1 OSC
    "\u202e"  # right-to-left override
    "\u200b"  # zero-width space
)
# What must never reach the terminal. Textual writes CSI (cursor, colours, modes) and no OSC
# of these kinds, and the stream is decoded as UTF-8 with surrogateescape: a raw C1 byte shows
# as a lone surrogate, an encoded U+009B as the character, and a UTF-8 continuation byte of
# an ordinary character as neither.
LEAKS = {
    "OSC 52 (clipboard)": "\x1b]52",
    "OSC 2 (window title)": "\x1b]2;pwned",
    "OSC 8 (link)": "\x1b]8;;http://evil",
    "CSI 2J (clear screen)": "\x1b[2J",
    "C1 CSI U+009B": "\x9b",
    "C1 OSC U+009D": "\x9d",
    "raw byte 0x9B": "\udc9b",
    "raw byte 0x9D": "\udc9d",
    "RLO U+202E": "\u202e",
    "ZWSP U+200B": "\u200b",
}


def leaks(text: str) -> list[str]:
    """The names of the hostile sequences found in a terminal's decoded output."""
    return [name for name, seq in LEAKS.items() if seq in text]


def hostile_inbound(external_id: str, *, priority: Priority | None, subject: str) -> Inbound:
    return Inbound(
        channel=Channel.EMAIL,
        sender=Sender(f"Mallory {HOSTILE}", (ContactRef(ContactKind.EMAIL, "mal@evil.invalid"),)),
        subject=subject,
        text=f"Body {WORD} {HOSTILE} end of body",
        external_id=external_id,
        message_id=external_id,
        priority=priority,
        attachments=(
            InboundAttachment(f"invoice{HOSTILE}.pdf", f"application/{HOSTILE}", b"%PDF-1.4 x"),
        ),
    )


def make_desk(db: Path) -> None:
    """An admin, a calm ticket, and an earlier hostile one from the same sender (the "other
    tickets" list shows it)."""
    desk = Desk(open_store(db), Settings(desk_domain="desk.test"))
    try:
        desk.add_agent("dana", name="Dana Admin", role=Role.ADMIN)
        desk.intake(
            Inbound(
                channel=Channel.EMAIL,
                sender=Sender("Ann Lee", (ContactRef(ContactKind.EMAIL, "ann@example.org"),)),
                subject="Baseline printer jam",
                text="Paper stuck.",
                external_id="calm@x",
                message_id="calm@x",
            )
        )
        desk.intake(hostile_inbound("old@evil", priority=None, subject=f"Earlier {HOSTILE} one"))
        desk.quarantine(
            channel=Channel.EMAIL, raw=b"garbage", error=f"bad {HOSTILE}", source=f"box{HOSTILE}"
        )
    finally:
        desk.close()


def ingest_urgent(db: Path) -> int:
    desk = Desk(open_store(db), Settings(desk_domain="desk.test"))
    try:
        result = desk.intake(
            hostile_inbound(
                "urgent@evil", priority=Priority.URGENT, subject=f"{WORD} {HOSTILE} outage"
            )
        )
    finally:
        desk.close()
    assert result.ticket_number is not None
    return result.ticket_number


def test_the_scanner_finds_a_payload_written_raw_to_a_pty(pty_term: Pty) -> None:
    """The control experiment: the same pty and reader see a raw payload, so a clean result
    below means nothing was written, not that nothing could be seen."""
    script = (
        "import sys; s = sys.argv[1]; sys.stdout.write(s); sys.stdout.flush(); "
        "sys.stdout.buffer.write(b'\\x9b\\x9d'); sys.stdout.flush()"
    )
    proc = pty_term.spawn([sys.executable, "-c", script, f"{WORD} {HOSTILE}"], dict(os.environ))
    assert proc.wait(timeout=20) == 0
    pty_term.wait_for("\udc9d")
    assert sorted(leaks(pty_term.text())) == sorted(LEAKS)
    assert leaks(safe_text(f"{WORD} {HOSTILE}")) == []
    assert leaks("ééé — ␛ ✎ 日本") == []  # UTF-8 continuation bytes are no C1


def test_console_and_cli_never_write_customer_escapes(pty_term: Pty, tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    make_desk(db)
    env = sdesk_env(tmp_path)
    console = pty_term.spawn(
        [sys.executable, "-m", "sdesk", "--db", str(db), "--agent", "dana"], env
    )
    try:
        pty_term.wait_for("Baseline printer jam", timeout=30)
        start = pty_term.mark()
        number = ingest_urgent(db)
        pty_term.wait_for("New urgent ticket", after=start)  # the toast
        pty_term.wait_for(f"#{number} {WORD}", after=start)  # its message: the subject

        def key(keys: str, expect: str | None = None, pause: float = 0.4) -> None:
            at = pty_term.mark()
            pty_term.send(keys)
            if expect is not None:
                pty_term.wait_for(expect, after=at)
            else:
                time.sleep(pause)

        escape = "\x1b"
        key("g")  # the first row: the urgent ticket sorts first
        key("\r", "opened")
        key("r", f"Reply on #{number}")
        key(escape)
        key("A", f"Assign #{number} to")
        key(escape)
        key("s", f"Status of #{number}")
        key(escape)
        key("p", f"Priority of #{number}")
        key(escape)
        key("m", f"Merge #{number} into")  # a picker of the customer's tickets, or the prompt
        key(escape)
        key("o", "Tickets of Mallory")
        key(escape)
        key("w", "into folder")
        key(escape)
        key(escape)  # back to the inbox
        key("/", "Search subjects")
        key(WORD)
        key("\r", WORD)
        key(escape)
        key("?", "Keys")
        key(escape)
        key("d", "Dashboard")
        key(escape)
        key("\x10", "Search for commands")  # ctrl+p: the command palette
        key("Other")
        key(escape)
        key(escape)
        key("\x11")  # ctrl+q
        assert console.wait(timeout=15) == 0, pty_term.text()[-3000:]  # quit, not crashed
    finally:
        if console.poll() is None:
            console.kill()
            console.wait(timeout=5)

    shown = pty_term.text()
    assert "␛]52;c;SGVsbG8=" in shown  # the payload is on the screen, as visible text
    assert not leaks(shown), f"the console wrote: {leaks(shown)}"

    cli = [sys.executable, "-m", "sdesk", "--db", str(db)]
    for args in (
        ["inbox"],
        ["show", str(number)],
        ["search", WORD],
        ["export", "--format", "csv"],
        ["export"],
        ["quarantine", "list"],
        ["agent", "list"],
    ):
        at = pty_term.mark()
        proc = pty_term.spawn([*cli, *args], env)
        assert proc.wait(timeout=30) == 0, decode(pty_term.raw()[at:])[-2000:]
        time.sleep(0.2)  # the reader drains what the command wrote
        wrote = decode(pty_term.raw()[at:])
        assert WORD in wrote or args[0] in ("quarantine", "agent"), (args, wrote[-2000:])
        assert leaks(wrote) == [], (args, leaks(wrote))

    assert leaks(pty_term.text()) == []
