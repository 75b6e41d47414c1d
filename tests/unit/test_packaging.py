"""The package as ``pip install .`` builds it (issue 14, item 13): the build leaves nothing in
the source tree, and the wheel carries the console's stylesheets, the migrations' template and
every other data file under ``sdesk/``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_SUFFIXES = {".tcss", ".ini", ".mako", ".json", ".html", ".css"}


def test_wheel_ships_package_data_and_leaves_no_build_folders(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "sdesk", src / "sdesk", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    before = sorted(p.relative_to(src) for p in src.rglob("*"))
    out = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    after = sorted(p.relative_to(src) for p in src.rglob("*"))
    assert after == before, "the build wrote into the source tree"

    (wheel,) = out.glob("sdesk-0.1.0-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = {
        p.relative_to(src).as_posix()
        for p in (src / "sdesk").rglob("*")
        if p.suffix in DATA_SUFFIXES
    }
    assert "sdesk/tui/sdesk.tcss" in data  # the premise: data files exist to ship
    assert "sdesk/api/cabinet/templates/ticket.html" in data  # the web cabinet's pages
    assert data <= names, sorted(data - names)
    modules = {p.relative_to(src).as_posix() for p in (src / "sdesk").rglob("*.py")}
    assert modules <= names, sorted(modules - names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "sdesk = sdesk.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
