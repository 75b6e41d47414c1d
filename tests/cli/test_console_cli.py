"""Opening the console from the command line: who am I, a terminal, a valid keymap."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Run
from tests.cli.test_errors import assert_one_line_error


def _desk_with_agent(sdesk: Run, tmp_path: Path) -> str:
    db = str(tmp_path / "d.db")
    assert sdesk("--db", db, "agent", "add", "mia", "--role", "admin").returncode == 0
    return db


def test_unknown_agent_is_told_how_to_add_itself(sdesk: Run, tmp_path: Path) -> None:
    db = _desk_with_agent(sdesk, tmp_path)
    result = sdesk("--db", db, "--agent", "nobody")
    assert_one_line_error(result, "unknown agent 'nobody'; add it with: sdesk agent add nobody")


def test_console_needs_a_terminal(sdesk: Run, tmp_path: Path) -> None:
    db = _desk_with_agent(sdesk, tmp_path)
    result = sdesk("--db", db, "--agent", "mia")
    assert_one_line_error(result, "the console needs a terminal")


def test_unknown_key_binding_id_in_config(
    sdesk: Run, sdesk_env: dict[str, str], tmp_path: Path
) -> None:
    db = _desk_with_agent(sdesk, tmp_path)
    config = Path(sdesk_env["XDG_CONFIG_HOME"]) / "sdesk" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[console.keys]\nreplyy = "R"\n', encoding="utf-8")
    assert_one_line_error(sdesk("--db", db, "--agent", "mia"), "no action 'replyy'")


def test_demo_without_a_terminal_prints_the_inbox(sdesk: Run, tmp_path: Path) -> None:
    result = sdesk("demo", "--db", str(tmp_path / "demo.db"))
    assert result.returncode == 0, result.stderr
    words = " ".join(result.stdout.split())  # Rich wraps the summary at the terminal's width
    assert "sdesk demo — inbox" in words
    assert "70 tickets, 255 messages" in words
