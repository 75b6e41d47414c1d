"""Importing any sdesk module changes no global state: the collector stays on with its
thresholds, the environment stays as it was (the console's start-up pause and frame rate live in
``sdesk/tui/startup.py`` and ``sdesk/tui/app.py``, applied when the console runs)."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import sdesk

# Scripts, not modules: ``python -m sdesk`` runs the CLI; Alembic runs its ``env`` inside a
# migration (it reads the migration's connection at import).
NOT_IMPORTED = {"sdesk.__main__", "sdesk.store.migrations.env"}


def all_modules() -> list[str]:
    root = Path(sdesk.__file__).parent
    names = ["sdesk"]
    for info in pkgutil.walk_packages([str(root)], prefix="sdesk."):
        if info.name not in NOT_IMPORTED:
            names.append(info.name)
    return sorted(names)


CHILD = """
import gc, importlib, json, os, sys
sys.argv[0] = "sdesk"  # as when the ``sdesk`` command runs
before = (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count(), dict(os.environ))
changed = []
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
    now = (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count(), dict(os.environ))
    if now != before:
        changed.append(name)
        before = now
print(json.dumps({"changed": changed, "enabled": gc.isenabled()}))
"""


def test_modules_are_found() -> None:
    names = all_modules()
    assert {"sdesk.cli", "sdesk.tui", "sdesk.tui.app", "sdesk.tui.screens.desk"} <= set(names)


def test_importing_every_module_changes_no_global_state() -> None:
    """Each module in a fresh interpreter, in order; any change is pinned on the module whose
    import made it. ``argv[0]`` is ``sdesk``, which the CLI once keyed a collector pause on."""
    names = all_modules()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(names)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"changed": [], "enabled": True}
