"""Hostile customer text against a real terminal: every byte the console and the CLI write to a
pseudo-terminal is read back and searched for the customer's escape sequences and controls.

A ticket whose subject, sender, text and attachment name carry OSC 52 (set the clipboard),
OSC 2 (retitle the window), CSI 2J (clear the screen), an OSC 8 link, raw C1 controls, a
right-to-left override and a zero-width space arrives while the console is open; the test
waits for its toast, then walks every screen that shows it. DESIGN rule 8.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import suppress
from pathlib import Path

import pytest

from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind, Priority, Role
from sdesk.core.inbound import ContactRef, Inbound, InboundAttachment, Sender
from sdesk.core.text import safe_text
from sdesk.store.engine import open_store

pytestmark = pytest.mark.timeout(90)

COLS, ROWS = 120, 40
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


def decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="surrogateescape")


class Pty:
    """A pseudo-terminal of COLS×ROWS; a thread keeps every byte its programs write."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        size = struct.pack("HHHH", ROWS, COLS, 0, 0)
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, size)
        self._chunks: list[bytes] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.2)
                if not ready:
                    continue
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every slave closed; EBADF: closed by close()
                return
            if not chunk:
                return
            with self._lock:
                self._chunks.append(chunk)

    def raw(self) -> bytes:
        with self._lock:
            return b"".join(self._chunks)

    def text(self) -> str:
        return decode(self.raw())

    def spawn(self, args: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """``args`` with the pty as its controlling terminal and its stdin, stdout, stderr."""

        def controlling_tty() -> None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        return subprocess.Popen(
            list(args),
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            env=env,
            start_new_session=True,
            preexec_fn=controlling_tty,
        )

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait_for(self, what: str, timeout: float = 20, *, after: int = 0) -> None:
        """Until ``what`` shows in the output written after byte ``after``."""
        deadline = time.monotonic() + timeout
        while what not in decode(self.raw()[after:]):
            if time.monotonic() > deadline:
                tail = self.text()[-3000:]
                pytest.fail(f"{what!r} not written after {timeout:g}s; the last output:\n{tail!r}")
            time.sleep(0.05)

    def mark(self) -> int:
        return len(self.raw())

    def close(self) -> None:
        """The slave first: the reader then sees EIO once the programs are gone, and stops."""
        with suppress(OSError):
            os.close(self.slave)
        self._reader.join(timeout=2)
        with suppress(OSError):
            os.close(self.master)


@pytest.fixture
def pty_term() -> Iterator[Pty]:
    term = Pty()
    try:
        yield term
    finally:
        term.close()


def sdesk_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env.pop("SDESK_DATABASE_URL", None)
    env.pop("SDESK_DEBUG", None)
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        TERM="xterm-256color",
        TZ="UTC",
        TEXTUAL_ANIMATIONS="none",
        SDESK_CONSOLE__REFRESH_SECONDS="0.2",
    )
    return env


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
        key("m", f"Merge #{number} into ticket")
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
