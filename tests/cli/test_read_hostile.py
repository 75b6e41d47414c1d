"""The CLI's read commands show hostile customer text as visible characters: no escape, C1 or
bidi control reaches the output, and markup in it is printed, not parsed (a ``[/]`` in a search
title raised MarkupError). A terminal's view of the same: tests/smoke/test_pty_hostile.py."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, Role
from sdesk.core.inbound import InboundAttachment
from sdesk.store.engine import open_store
from tests.cli.conftest import Run
from tests.factories import email

HOSTILE = "\x1b]2;pwned\x07\x1b[2J\x9b31m\u202e\u200b [/] [@click=app.quit]"


def _clean(out: str) -> bool:
    return not any(
        (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F or c in "\u202e\u200b"
        for c in out
    )


@pytest.fixture
def hostile_db(tmp_path: Path) -> Path:
    db = tmp_path / "desk.db"
    desk = Desk(open_store(db), Settings(desk_domain="desk.test"))
    desk.add_agent("dana", name=f"Dana {HOSTILE}", role=Role.ADMIN)
    inbound = email("h@x", name=f"Mal {HOSTILE}", subject=f"Quokka {HOSTILE}", text=HOSTILE)
    attachment = InboundAttachment(f"f{HOSTILE}.pdf", f"application/{HOSTILE}", b"%PDF")
    desk.intake(dataclasses.replace(inbound, attachments=(attachment,)))
    desk.quarantine(channel=Channel.EMAIL, raw=b"x", error=f"bad {HOSTILE}", source=HOSTILE)
    desk.close()
    return db


@pytest.mark.parametrize(
    "args",
    [
        ("inbox",),
        ("show", "1001"),
        ("search", "Quokka"),
        ("search", "Quokka [/]"),
        ("quarantine", "list"),
        ("agent", "list"),
    ],
)
def test_read_commands_print_hostile_text_visibly(
    sdesk: Run, hostile_db: Path, args: tuple[str, ...]
) -> None:
    done = sdesk("--db", str(hostile_db), *args)
    assert done.returncode == 0, done.stderr
    assert _clean(done.stdout), repr(done.stdout)
    assert "␛]2;pwned" in done.stdout or args[0] == "search"  # shown, not obeyed
    if args[0] == "search":
        assert "Quokka" in done.stdout
    if args == ("show", "1001"):
        assert "[@click=app.quit]" in done.stdout  # markup printed as it is
