"""Headless paths must not load the console (``sdesk ingest`` runs on servers without it), and
the console must not load a channel (the CLI wires them: ARCHITECTURE.md, layers)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

HEADLESS = [
    "sdesk.cli",
    "sdesk.core.desk",
    "sdesk.channels.files.importer",
    "sdesk.channels.email.parse",
    "sdesk.store.engine",
]


def test_headless_modules_do_not_import_textual() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in HEADLESS)
        + "print('textual' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "False"


def test_the_console_imports_no_channel() -> None:
    """The CLI builds the services and hands them to the console (``sdesk.channels.services``):
    every ``sdesk.tui`` module loads without any ``sdesk.channels`` module coming along."""
    code = (
        "import pkgutil, sys, importlib\n"
        "import sdesk.tui, sdesk.tui.app\n"
        "for m in pkgutil.walk_packages(sdesk.tui.__path__, 'sdesk.tui.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('sdesk.channels')))\n"
        "print(len([m for m in sys.modules if m.startswith('sdesk.tui.')]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "[]"
    assert int(out[1]) > 20  # the walk did load the screens and widgets


def test_no_console_source_imports_a_channel() -> None:
    """The same, read from the source: no ``import sdesk.channels...`` anywhere in ``sdesk/tui``,
    not even inside a function (where the console once started the pollers itself)."""
    root = Path(__file__).resolve().parents[2] / "sdesk" / "tui"
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [f"{path.name}: {n}" for n in names if n.startswith("sdesk.channels")]
    assert len(list(root.rglob("*.py"))) > 20
    assert found == []


def test_the_console_gets_its_channels_only_when_it_starts_them(tmp_path: Path) -> None:
    """``sdesk`` with mailboxes: making the console (``console_app``) loads no channel; the
    services it is handed import them on their own thread when started (after the first
    paint), from the CLI side."""
    code = f"""
import sys, threading
from sdesk.cli.console import console_app
from sdesk.config import MailboxSettings, Settings
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
from sdesk.store.queries import agent_row
box = MailboxSettings(name="support", host="127.0.0.1", port=1, security="none", username="u",
                      password_env="UNSET", address="support@desk.test")
desk = Desk(open_store({str(tmp_path / "desk.db")!r}), Settings(mailboxes=[box]))
desk.add_agent("eli", name="Eli")
with desk.store.read() as s:
    me = agent_row(s, "eli")
app, services = console_app(desk, me)
print(sorted(m for m in sys.modules if m.startswith("sdesk.channels")))
services.start()
for _ in range(2000):
    if services.supervisor is not None:
        break
    threading.Event().wait(0.01)
assert services.wait(20) == []
print("sdesk.channels.services" in sys.modules, services.supervisor is not None)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.splitlines()
    assert out == ["[]", "True True"]
