"""The import-linter contracts in pyproject.toml catch a forbidden import (ARCHITECTURE.md, Layers).

Each check runs ``lint-imports`` on a copy of the package, so the tree under test is never
edited: the clean copy keeps the contract, and the same copy with one forbidden import added
breaks it, with the contract named in the output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The entry point of the `lint-imports` script, run with this interpreter (no PATH lookup).
LINT_IMPORTS = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def _copy_tree(dest: Path) -> Path:
    shutil.copytree(ROOT / "sdesk", dest / "sdesk", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def _lint(tree: Path, contract: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--contract", contract],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _add_import(path: Path, line: str) -> None:
    text = path.read_text(encoding="utf-8")
    # After the module docstring and `from __future__`, so the file still compiles.
    marker = "from __future__ import annotations\n"
    assert marker in text, path
    path.write_text(text.replace(marker, f"{marker}\n{line}\n", 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("contract", "module", "forbidden"),
    [
        ("headless", "sdesk/core/text.py", "import textual"),
        ("headless", "sdesk/alerts/rules.py", "import textual"),
        ("store-below-core", "sdesk/store/blobs.py", "import sdesk.core.text"),
        ("core-below-adapters", "sdesk/core/text.py", "import sdesk.channels"),
        ("enums-leaf", "sdesk/enums.py", "import sdesk.config"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, contract: str, module: str, forbidden: str
) -> None:
    name = str(_contracts()[contract]["name"])
    tree = _copy_tree(tmp_path)

    clean = _lint(tree, contract)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "KEPT" in clean.stdout

    _add_import(tree / module, forbidden)
    broken = _lint(tree, contract)
    assert broken.returncode != 0, broken.stdout + broken.stderr
    assert "BROKEN" in broken.stdout
    # Rich wraps long lines; the contract's name is there once the wrapping is undone.
    assert name in " ".join(broken.stdout.split()), broken.stdout


def test_packages_named_ahead_are_named_once_they_exist() -> None:
    """`sdesk.api.**` leaves out sdesk/api/__init__.py: the package itself must be named."""
    for contract in _contracts().values():
        for field in ("source_modules", "forbidden_modules"):
            for expression in contract.get(field, []):
                if not expression.endswith(".**"):
                    continue
                package = expression.removesuffix(".**")
                path = ROOT.joinpath(*package.split("."))
                assert not path.exists(), (
                    f"{package} exists now: name it in {contract['id']}.{field} instead of"
                    f" {expression}"
                )
