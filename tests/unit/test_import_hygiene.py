"""Headless paths must not load the console: ``sdesk ingest`` runs on servers without it."""

from __future__ import annotations

import subprocess
import sys

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
